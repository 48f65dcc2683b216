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
