"""The real-data workflow, offline: config/costanzo_dna_repair.yaml on local copies of the
published files (the Costanzo 2016 DNA-repair pairs as the DCell authors published them, four
STRING v9.1 channels as the DANGO authors published them), brought in through the `local:`
download mechanism by an extra configfile. Shortened training keeps it within CI's budget; the
full run's numbers are in the README."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_runs import copy_workflow, jobs_planned, run_snakemake

from geneint.data.canonical import read_gene_index, read_interactions

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

LOCAL_COPIES = {
    "dcell_train": "costanzo2016_dna_repair/GO_0006281_training_data_2016_0",
    "dcell_test": "costanzo2016_dna_repair/GO_0006281_testing_data_2016_0",
    "dcell_topology": "costanzo2016_dna_repair/GO_0006281_topology",
    "dango_genes": "string_v9.1_partial/yeast_string_genes.txt",
    "sgd_features": "sgd/SGD_features.tab",
    "yeast_gem": "yeast_gem/yeast-GEM.yml",
    **{f"dango_{c}": f"string_v9.1_partial/yeast_string_{c}_adjacency.txt"
       for c in ("neighborhood", "fusion", "cooccurence", "database")},
}
QUICK = {"pretrain": {"epochs": 2}, "train": {"epochs": 4, "patience": 100},
         "dcell": {"epochs": 15}, "multigraph": {"epochs": 4, "patience": 100},
         "hetero_sagpool": {"epochs": 1},
         "baselines": {"random_forest": {"n_estimators": 40}}}
SWEEP = """grid:
  model: [dango, dcell, multigraph, hetero_sagpool, fba, mean, additive, rf_pair_features,
          rf_embeddings]
  split: [published]
models:
  dango: {lambda_mode: [config]}
  multigraph: {graphs: [string9.1+metabolism]}
  hetero_sagpool: {graphs: [string9.1]}
  rf_embeddings: {lambda_mode: [config]}
seeds: [0]
"""


def _fingerprints(*folders: Path) -> dict[str, tuple[int, str]]:
    return {str(f): (f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
            for folder in folders for f in sorted(folder.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def real_run(shared_data, tmp_path_factory):
    """The real-pairs study run in a folder where the demo's tables were built first."""
    root = copy_workflow(tmp_path_factory.mktemp("costanzo"))
    run_snakemake(root, "--cores", "2", "data/processed/demo/interactions.parquet")
    demo_files = (root / "data" / "processed" / "demo", root / "data" / "raw" / "synthetic")
    demo_before = _fingerprints(*demo_files)
    local = {"data": {"downloads": {name: {"local": str(shared_data / path)}
                                    for name, path in LOCAL_COPIES.items()}}}
    (root / "local_copies.yaml").write_text(yaml.safe_dump(local))
    (root / "quick.yaml").write_text(yaml.safe_dump({**QUICK, "sweep": "quick_sweep.yaml"}))
    (root / "quick_sweep.yaml").write_text(SWEEP)
    configs = ("--configfile", "config/costanzo_dna_repair.yaml", "local_copies.yaml",
               "quick.yaml")
    plan = run_snakemake(root, "-n", *configs).stdout
    run_snakemake(root, "--cores", "2", *configs, timeout=1800)
    root.joinpath("demo_plan.txt").write_text(plan)
    root.joinpath("demo_untouched.txt").write_text(str(_fingerprints(*demo_files) == demo_before))
    return root


def test_the_real_study_plans_no_demo_job_and_leaves_the_demo_files_untouched(real_run):
    plan = (real_run / "demo_plan.txt").read_text()
    assert "output: data/processed/costanzo_dna_repair/interactions.parquet" in plan
    assert "demo" not in plan and "synthetic" not in plan
    assert (real_run / "demo_untouched.txt").read_text() == "True"


def test_the_shipped_config_names_only_public_urls(workflow_copy, snakemake):
    config = yaml.safe_load((workflow_copy / "config" / "costanzo_dna_repair.yaml").read_text())
    for name, spec in config["data"]["downloads"].items():
        assert spec["url"].startswith("https://raw.githubusercontent.com/"), name
        assert len(spec["sha256"]) == 64 and "local" not in spec, name
    # Without local copies, the plan downloads every file (and trains all ten models).
    out = snakemake(workflow_copy, "-n", "--configfile", "config/costanzo_dna_repair.yaml")
    jobs = jobs_planned(out.stdout)
    assert jobs["download_source"] == 10 and jobs["train_model"] == 12
    assert jobs["parse_ontology"] == 1 and jobs["interpret_dcell"] == 3
    assert jobs["fit_estimator"] == 18 and jobs["pretrain_network"] == 4
    assert jobs["parse_metabolism"] == 1 and jobs["fba_growth"] == 4


def test_published_pairs_and_networks_become_canonical_tables(real_run):
    processed = real_run / "data" / "processed" / "costanzo_dna_repair"
    assert len(read_gene_index(processed / "genes.tsv")) == 6400
    interactions = read_interactions(processed / "interactions.parquet")
    assert len(interactions) == 8783 + 2868 and set(interactions["arity"]) == {2}
    assert interactions["published_split"].value_counts().to_dict() == {"train": 8783,
                                                                         "test": 2868}
    split = pd.read_parquet(processed / "splits" / "published.parquet")
    roles = split["role"].value_counts().to_dict()
    assert roles == {"train": 7905, "val": 878, "test": 2868}
    qc = json.loads((processed / "string" / "v9.1.parquet.qc.json").read_text())
    assert qc["info"]["channels"] == ["neighborhood", "fusion", "cooccurence", "database"]


def test_every_model_has_a_row_and_the_baselines_match_known_values(real_run):
    summary = pd.read_csv(real_run / "results" / "costanzo_dna_repair" / "summary.tsv",
                          sep="\t")
    assert sorted(summary["model"]) == sorted(
        ["dango", "dcell", "multigraph", "hetero_sagpool", "fba", "mean", "additive",
         "rf_pair_features", "rf_embeddings"])
    by_model = summary.set_index("model")
    assert (by_model["test_n"] == 2868).all()
    # Per-gene effects explain part of ε on these pairs (test Pearson 0.285 with the
    # published split); the mean explains nothing.
    assert by_model.loc["additive", "test_pearson"] == pytest.approx(0.285, abs=0.01)
    assert pd.isna(by_model.loc["mean", "test_pearson"])
    assert by_model.loc["rf_pair_features", "test_pearson"] > 0.15
    assert by_model.loc["additive", "test_mse"] < by_model.loc["mean", "test_mse"]
    # Every model is also scored as a classifier of ε's classes (|ε| > 0.08 for pairs): the
    # mean predicts "neutral" for all, the majority-class level.
    assert by_model.loc["mean", "test_macro_f1"] == pytest.approx(0.311, abs=0.001)
    assert by_model.loc["additive", "test_macro_f1"] > by_model.loc["mean", "test_macro_f1"]
    assert by_model["test_fraction_positive"].nunique() == 1
    assert 0 <= by_model.loc["hetero_sagpool", "test_macro_auroc"] <= 1
    assert (real_run / "results" / "costanzo_dna_repair" / "plots" / "models.png").exists()
    # Readable predictions: standard names from SGD beside the systematic ones.
    table = pd.read_csv(next((real_run / "results" / "costanzo_dna_repair" / "eval").rglob(
        "predictions.tsv")), sep="\t")
    assert (table["role"] == "test").sum() == 2868 and list(table["role"][:1]) == ["test"]
    assert table["names"].str.contains(r"\bRAD51\b").any()


def test_dcell_runs_on_the_published_dna_repair_ontology(real_run):
    processed = real_run / "data" / "processed" / "costanzo_dna_repair"
    qc = json.loads((processed / "ontology.json.qc.json").read_text())
    ontology = json.loads((processed / "ontology.json").read_text())
    assert ontology["counts"]["terms"] == 21 and ontology["counts"]["genes"] == 162, qc
    summary = pd.read_csv(real_run / "results" / "costanzo_dna_repair" / "summary.tsv",
                          sep="\t").set_index("model")
    # 15 epochs already learn more than the mean (the full run's numbers are in the README).
    assert summary.loc["dcell", "test_pearson"] > 0.15
    importance = pd.read_csv(next((real_run / "results" / "costanzo_dna_repair" /
                                   "interpret").rglob("term_importance.tsv")), sep="\t")
    assert len(importance) == 21 and importance["rlipp"].notna().sum() >= 15
    assert set(importance["term"]) == {t["id"] for t in ontology["terms"]}


def test_the_real_metabolic_model_feeds_multigraph_and_fba(real_run):
    processed = real_run / "data" / "processed" / "costanzo_dna_repair"
    qc = json.loads((processed / "metabolism" / "metabolism.qc.json").read_text())
    # Yeast-GEM 9.0.2: 1,161 genes; GPR rows of genes outside DANGO's 6,400-gene index are
    # counted, not silently dropped.
    assert qc["counts"]["model_genes"] == 1161 and qc["counts"]["reactions"] == 4131
    assert 1000 < qc["counts"]["genes_kept"] <= 1161
    results = real_run / "results" / "costanzo_dna_repair" / "train"
    fba = json.loads(next(results.glob("model~fba/*/seed0/train_summary.json")).read_text())
    # Only 3 of the 162 DNA-repair genes are metabolic (YDR440W, YKL067W, YLR151C): FBA
    # predicts ε = 0 for almost every pair.
    assert fba["model_genes_in_sets"] == 3
    multigraph = json.loads(next(results.glob("model~multigraph/*/*/*/*/seed0/"
                                              "train_summary.json")).read_text())
    assert multigraph["cell_graph"]["nodes"]["reaction"] == 4131
    assert {"gene__gpr__reaction", "gene__string_v9_1_database__gene"} <= set(
        multigraph["cell_graph"]["edges"])
