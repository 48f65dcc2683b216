"""The single-cell perturbation study, run for real by Snakemake: the offline demo (target
`perturbation`) end to end, what a change reruns, the study's isolation from the default target,
and scanpy's krumsiek11 through the same rules."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from workflow_runs import copy_workflow, jobs_planned, run_snakemake

pytestmark = pytest.mark.slow

RESULTS = "results/demo/perturbation/synthetic"


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


def test_rerun_plans_only_what_a_change_touches(finished_study):
    assert jobs_planned(run_snakemake(finished_study, "-n", "perturbation").stdout) == {}
    changed = finished_study / "catran_epochs.yaml"
    changed.write_text("perturbation:\n  catran:\n    epochs: 3\n")
    planned = jobs_planned(run_snakemake(finished_study, "-n", "perturbation",
                                         "--configfile", str(changed)).stdout)
    assert planned == {"infer_network": 9, "evaluate_network": 9, "aggregate_networks": 1,
                       "perturbation": 1}


def test_report_holds_the_study(finished_study):
    run_snakemake(finished_study, "--report", "report.zip", "perturbation")
    assert (finished_study / "report.zip").stat().st_size > 50_000


def test_default_target_plans_no_perturbation_job(tmp_path):
    root = copy_workflow(tmp_path)
    planned = jobs_planned(run_snakemake(root, "-n").stdout)
    assert planned and not {"prepare_cells", "infer_network"} & set(planned)


def test_a_bad_perturbation_setting_names_its_file_and_key(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "bad.yaml").write_text("perturbation:\n  regimes: [partial2]\n")
    proc = run_snakemake(root, "-n", "perturbation", "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    assert "bad.yaml: perturbation.regimes[0]" in proc.stdout + proc.stderr


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
        "run: local\nperturbation:\n  dataset: replogle_k562\n  downloads:\n"
        f"    replogle_k562: {{url: 'https://plus.figshare.com/ndownloader/files/35773219',"
        f" sha256: {_pinned(replogle)}, local: '{replogle}'}}\n"
        f"    norman: {{url: 'https://dataverse.harvard.edu/api/access/datafile/6154020',"
        f" sha256: {_pinned(archive)}, local: '{archive}',"
        f" extract: norman/perturb_processed.h5ad}}\n" + common)
    run_snakemake(root, "--cores", "2", "perturbation", "--configfile", "local.yaml")
    (root / "norman.yaml").write_text("perturbation:\n  dataset: norman\n")
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
