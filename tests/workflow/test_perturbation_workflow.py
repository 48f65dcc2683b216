"""The single-cell perturbation study, run for real by Snakemake: the offline demo (target
`perturbation`: network inference and response prediction) end to end, what a change reruns,
the study's isolation from the default target, scanpy's krumsiek11 and the published layouts
through the same rules."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from workflow_runs import copy_workflow, jobs_planned, run_snakemake

pytestmark = pytest.mark.slow

RESULTS = "results/demo/perturbation/synthetic"
RESPONSE = f"{RESULTS}/response"


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("perturbation"))
    run_snakemake(root, "--cores", "2", "perturbation")
    return root


def test_demo_writes_every_network_its_metrics_the_summary_and_the_plots(finished_study):
    config = yaml.safe_load((finished_study / "config" / "config.yaml").read_text())
    study = config["perturbation"]
    summary = pd.read_csv(finished_study / RESULTS / "summary.tsv", sep="\t")
    assert len(summary) == len(study["models"]) * len(study["regimes"]) * len(study["seeds"])
    assert set(summary["model"]) == {"random", "correlation", "catran"}
    assert (summary["edges"] == study["edges"]).all()
    assert (summary["untestable"] == 0).all() and summary["false_omission_rate"].notna().all()
    cells = summary.groupby("regime")["train_cells"].first()
    assert cells["observational"] < cells["partial0.5"] < cells["interventional"]
    for plot in ("network_metrics.png", "wasserstein_for.png"):
        assert (finished_study / RESULTS / "plots" / plot).stat().st_size > 10_000
    qc = json.loads((finished_study / "data/processed/demo/perturbation/synthetic/"
                     "cells.h5ad.qc.json").read_text())
    assert qc["counts"]["genes_kept"] == study["synthetic"]["genes"]
    edges = pd.read_csv(finished_study / RESULTS / "catran/interventional/seed0/edges.tsv",
                        sep="\t")
    assert list(edges.columns) == ["source", "target", "score", "rank"]
    assert len(edges) == study["edges"] and not edges.duplicated(["source", "target"]).any()


def test_catran_beats_the_random_network_on_the_demo(finished_study):
    summary = pd.read_csv(finished_study / RESULTS / "summary_by_model.tsv", sep="\t")
    by = summary.set_index(["model", "regime"])
    print("\n" + summary[["model", "regime", "precision", "mean_wasserstein",
                          "false_omission_rate", "precision_directed"]].to_string())
    for metric in ("precision", "precision_directed", "mean_wasserstein"):
        assert (by.loc[("catran", "interventional"), metric]
                > by.loc[("random", "interventional"), metric] + 0.1), metric


def test_demo_predicts_every_held_out_perturbation_with_grape_and_its_baselines(
        finished_study):
    config = yaml.safe_load((finished_study / "config" / "config.yaml").read_text())
    seeds = config["perturbation"]["response"]["seeds"]
    summary = pd.read_csv(finished_study / RESPONSE / "summary.tsv", sep="\t")
    # The seed-free baselines once, GRAPE once per seed; all on the same held-out set.
    assert summary.groupby("model").size().to_dict() == {
        "additive": 1, "control": 1, "grape": len(seeds), "mean": 1}
    assert summary["held_out"].nunique() == 1
    split = pd.read_csv(finished_study / "data/processed/demo/perturbation/synthetic/response/"
                        "split.tsv", sep="\t")
    assert summary["held_out"].iloc[0] == (split["split"] == "test").sum()
    assert {"unseen_single", "combo_seen1", "combo_seen2"} <= set(split["subgroup"])
    by = pd.read_csv(finished_study / RESPONSE / "summary_by_model.tsv",
                     sep="\t").set_index("model")
    print("\n" + by[["seeds", "pearson_delta", "pearson_delta_de20", "mse_de20", "dac",
                     "pearson_delta_unseen_single", "pearson_delta_combo_seen2"]].to_string())
    assert by.loc["control", "pearson_delta"] == 0.0 and by.loc["control", "dac"] == 0.0
    # The mean-baseline check of the demo (median over seeds): GRAPE above the training mean.
    assert by.loc["grape", "pearson_delta"] > by.loc["mean", "pearson_delta"]
    assert by.loc["grape", "mse_de20"] < by.loc["mean", "mse_de20"]
    # Doubles of two seen genes: the additive model knows both singles.
    assert by.loc["additive", "pearson_delta_combo_seen2"] > by.loc["mean",
                                                                    "pearson_delta_combo_seen2"]
    for plot in ("response_metrics.png", "response_delta.png"):
        assert (finished_study / RESPONSE / "plots" / plot).stat().st_size > 10_000
    grape = json.loads((finished_study / RESPONSE / "grape/seed0/prediction.json").read_text())
    assert grape["views"] == 2 and grape["noncoding_genes"] > 0
    assert grape["perturbation"] == "zero" and grape["initial_graph_edges"] > 0


def test_rerun_plans_only_what_a_change_touches(finished_study):
    assert jobs_planned(run_snakemake(finished_study, "-n", "perturbation").stdout) == {}
    changed = finished_study / "catran_epochs.yaml"
    changed.write_text("perturbation:\n  catran:\n    epochs: 3\n")
    planned = jobs_planned(run_snakemake(finished_study, "-n", "perturbation",
                                         "--configfile", str(changed)).stdout)
    assert planned == {"infer_network": 9, "evaluate_network": 9, "aggregate_networks": 1,
                       "perturbation": 1}
    # GRAPE's settings rerun GRAPE alone, never its baselines or the networks.
    changed.write_text("perturbation:\n  response:\n    grape:\n      epochs: 3\n")
    planned = jobs_planned(run_snakemake(finished_study, "-n", "perturbation",
                                         "--configfile", str(changed)).stdout)
    assert planned == {"train_response_model": 3, "evaluate_response": 3,
                       "aggregate_responses": 1, "perturbation": 1}


def test_report_holds_the_study(finished_study):
    run_snakemake(finished_study, "--report", "report.zip", "perturbation")
    assert (finished_study / "report.zip").stat().st_size > 50_000


def test_default_target_plans_no_perturbation_job(tmp_path):
    root = copy_workflow(tmp_path)
    planned = jobs_planned(run_snakemake(root, "-n").stdout)
    assert planned and not {"prepare_cells", "infer_network", "prepare_response",
                            "train_response_model"} & set(planned)


def test_a_bad_perturbation_setting_names_its_file_and_key(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "bad.yaml").write_text("perturbation:\n  regimes: [partial2]\n")
    proc = run_snakemake(root, "-n", "perturbation", "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    assert "bad.yaml: perturbation.regimes[0]" in proc.stdout + proc.stderr
    # The response task needs GEARS' layout: a Replogle run says how to turn it off.
    (root / "bad.yaml").write_text("perturbation:\n  dataset: replogle_k562\n")
    proc = run_snakemake(root, "-n", "perturbation", "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    assert ("bad.yaml: perturbation.response: the response task reads GEARS' layout"
            in proc.stdout + proc.stderr)
    assert "perturbation.response.models: []" in proc.stdout + proc.stderr


def test_krumsiek11_runs_through_the_same_rules(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "quick.yaml").write_text("perturbation:\n  seeds: [0]\n  catran: {epochs: 20}\n")
    run_snakemake(root, "--cores", "2", "perturbation", "--configfile",
                  "config/perturbation_krumsiek11.yaml", "quick.yaml")
    summary = pd.read_csv(root / "results/krumsiek11/perturbation/krumsiek11/summary.tsv",
                          sep="\t")
    print("\n" + summary[["model", "precision_directed", "precision_undirected"]].to_string())
    assert set(summary["ground_truth"]) == {"krumsiek11"}
    assert (summary["known_edges"] == 26).all() and summary["precision"].isna().all()
    assert summary["precision_undirected"].notna().all()


def _pinned(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_data_sets_come_through_the_download_rules_from_local_copies(tmp_path):
    """Replogle's h5ad and GEARS' Dataverse zip, as published (layouts; the cells are the
    synthetic ones), fetched offline through `local:` with pinned hashes."""
    import zipfile

    import anndata
    import numpy as np

    from geneint.cli import main

    root = copy_workflow(tmp_path / "wf")
    assert main(["perturbation", "synth", "--genes", "12", "--control-cells", "300",
                 "--cells-per-perturbation", "80", "--out", str(tmp_path / "raw")]) == 0
    replogle = tmp_path / "raw" / "cells.h5ad"
    raw = anndata.read_h5ad(replogle)
    gears = anndata.AnnData(
        X=np.log1p(raw.X), var=pd.DataFrame({"gene_name": raw.var["gene_name"].to_numpy()},
                                            index=raw.var_names),
        obs=pd.DataFrame({"condition": [("ctrl" if g == "non-targeting" else f"{g}+ctrl")
                                        for g in raw.obs["gene"].astype(str)]},
                         index=raw.obs_names))
    gears.write_h5ad(tmp_path / "perturb_processed.h5ad")
    archive = tmp_path / "norman.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tmp_path / "perturb_processed.h5ad", "norman/perturb_processed.h5ad")
    common = ("  preprocess: {min_cells: 50}\n  models: [random, correlation]\n"
              "  regimes: [interventional]\n  seeds: [0]\n  edges: 20\n")
    (root / "local.yaml").write_text(
        "run: local\nperturbation:\n  dataset: replogle_k562\n  response: {models: []}\n"
        "  downloads:\n"
        f"    replogle_k562: {{url: 'https://plus.figshare.com/ndownloader/files/35773219',"
        f" sha256: {_pinned(replogle)}, local: '{replogle}'}}\n"
        f"    norman: {{url: 'https://dataverse.harvard.edu/api/access/datafile/6154020',"
        f" sha256: {_pinned(archive)}, local: '{archive}',"
        f" extract: norman/perturb_processed.h5ad}}\n" + common)
    run_snakemake(root, "--cores", "2", "perturbation", "--configfile", "local.yaml")
    # GEARS' file feeds both tasks: the networks and the responses (singles only here).
    (root / "norman.yaml").write_text(
        "perturbation:\n  dataset: norman\n  response:\n    models: [mean, grape]\n"
        "    seeds: [0]\n    grape: {epochs: 3}\n")
    run_snakemake(root, "--cores", "2", "perturbation", "--configfile", "local.yaml",
                  "norman.yaml")
    for dataset, truth in (("replogle_k562", "chipseq_k562"), ("norman", "none")):
        summary = pd.read_csv(root / f"results/local/perturbation/{dataset}/summary.tsv",
                              sep="\t")
        assert set(summary["model"]) == {"random", "correlation"}
        assert (summary["ground_truth"] == truth).all()
        assert (summary["untestable"] == 0).all()
        correlation = summary.set_index("model").loc["correlation"]
        assert correlation["precision"] > summary.set_index("model").loc["random", "precision"]
    qc = json.loads((root / "data/processed/local/perturbation/norman/cells.h5ad.qc.json")
                    .read_text())
    assert qc["counts"]["genes_kept"] == 12
    responses = pd.read_csv(root / "results/local/perturbation/norman/response/summary.tsv",
                            sep="\t")
    assert set(responses["model"]) == {"mean", "grape"}
    split = pd.read_csv(root / "data/processed/local/perturbation/norman/response/split.tsv",
                        sep="\t")
    assert set(split.loc[split["split"] == "test", "subgroup"]) == {"unseen_single"}
    grape = json.loads((root / "results/local/perturbation/norman/response/grape/seed0/"
                        "prediction.json").read_text())
    assert grape["views"] == 0 and grape["noncoding_genes"] == 0   # no feature files: fallback
    log = (root / "logs/local/perturbation/norman/response/grape/seed0/predict.log").read_text()
    assert "learns gene embeddings" in log and "every gene is taken as coding" in log
