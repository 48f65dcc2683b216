"""The workflow, run for real by Snakemake on the synthetic demo: the whole DAG once, then
dry-runs that show what a change would rerun."""

from __future__ import annotations

import base64
import shutil

import pandas as pd
import pytest
import yaml
from workflow_runs import copy_workflow, jobs_planned, run_snakemake

from geneint.data.canonical import read_edges, read_gene_index, read_interactions

pytestmark = pytest.mark.slow

SWEEP_TWO_DIMS = """grid:
  model: [dango, additive, mean]
  split: [random0]
models:
  dango: {graphs: [string9.1], variant: [spec], dim: [64, 32], lambda_mode: [rule],
          alpha_schedule: [linear_until_uniform], lr: [0.003]}
seeds: [0, 1]
"""
DEMO_MODELS = {"dango", "additive", "mean"}


def sweep_with_models(*models: str) -> str:
    return f"grid:\n  model: [{', '.join(models)}]\n  split: [random0]\nseeds: [0]\n"


@pytest.fixture(scope="module")
def finished_demo(tmp_path_factory):
    """The demo DAG run once to the end, in its own copy of the workflow."""
    root = copy_workflow(tmp_path_factory.mktemp("demo_run"))
    run_snakemake(root, "--cores", "2")
    return root


def test_demo_dag_produces_summary_plots_and_canonical_tables(finished_demo):
    processed = finished_demo / "data" / "processed" / "demo"
    genes = read_gene_index(processed / "genes.tsv")
    interactions = read_interactions(processed / "interactions.parquet")
    assert set(interactions["arity"]) == {2, 3}
    assert set(interactions[["gene_a", "gene_b"]].to_numpy().ravel()) <= set(genes)
    for release in ("9.1", "11.0"):
        assert read_edges(processed / "string" / f"v{release}.parquet")["channel"].nunique() == 6
    summary = pd.read_csv(finished_demo / "results" / "demo" / "summary.tsv", sep="\t")
    assert set(summary["model"]) == DEMO_MODELS and len(summary) == 3
    pearson = summary.set_index("model")["test_pearson"]
    # DANGO learns the planted interactions; per-gene effects explain part of τ; the mean
    # explains nothing and its Pearson is undefined (empty), never 0.
    assert pearson["dango"] > 0.5 and pearson["dango"] > pearson["additive"] > 0.2
    assert pd.isna(pearson["mean"])
    mse = summary.set_index("model")["test_mse"]
    assert mse["dango"] < mse["additive"] < mse["mean"]
    assert {"test_spearman", "test_auroc", "test_oracle_pearson", "val_pearson",
            "train_pearson"} <= set(summary)
    by_point = pd.read_csv(finished_demo / "results" / "demo" / "summary_by_point.tsv",
                           sep="\t")
    assert list(by_point.columns[:2]) == ["model", "split"] and len(by_point) == 3
    for plot in ("metrics.png", "models.png", "training_curves.png"):
        assert (finished_demo / "results" / "demo" / "plots" / plot).stat().st_size > 1000
    assert not list((finished_demo / "results" / "demo" / ".work").rglob("*.ckpt"))


def test_second_run_does_nothing(finished_demo, snakemake):
    out = snakemake(finished_demo, "--cores", "2")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_report_is_built(finished_demo, snakemake):
    snakemake(finished_demo, "--report", "report.html")
    html = (finished_demo / "report.html").read_text(errors="replace")
    assert "summary.tsv" in html and "metrics.png" in html and "models.png" in html


def _copy_of(finished_demo, tmp_path):
    """The finished demo with its Snakemake records (.snakemake), to break without harm."""
    root = tmp_path / "demo"
    shutil.copytree(finished_demo, root, symlinks=True)
    return root


def test_a_corrupt_raw_file_fails_every_run_until_repaired(finished_demo, tmp_path, snakemake):
    root = _copy_of(finished_demo, tmp_path)
    raw = root / "data" / "raw" / "synthetic" / "string" / "4932.protein.links.detailed.v9.1.txt.gz"
    edges = "data/processed/demo/string/v9.1.parquet"
    good = raw.read_bytes()
    raw.write_bytes(good[: len(good) // 2])
    proc = snakemake(root, "--profile", "profiles/local", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    # The failing job's log is on the console: its file, line and problem.
    assert "Logfile logs/demo/data/parse_string_v9.1.log" in out
    assert "corrupt or truncated gzip stream" in out
    # The table is gone and results built from the old one exist: no run ends green over them.
    proc = snakemake(root, "--profile", "profiles/local", check=False)
    assert proc.returncode != 0 and f"  {edges} (built from it: " in proc.stderr
    # A rebuild of the table alone fails again while the file stays bad...
    assert snakemake(root, "--profile", "profiles/local", edges, check=False).returncode != 0
    # ...and once repaired (the same bytes as before), it comes out identical, so nothing that
    # was built from it is stale.
    raw.write_bytes(good)
    snakemake(root, "--profile", "profiles/local", edges)
    out = snakemake(root, "-n", "--profile", "profiles/local")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_a_missing_intermediate_is_rebuilt_alone_and_an_identical_one_retrains_nothing(
        finished_demo, tmp_path, snakemake):
    root = _copy_of(finished_demo, tmp_path)
    table = "data/processed/demo/interactions.parquet"
    before = (root / table).read_bytes()
    (root / table).unlink()
    proc = snakemake(root, "-n", "--cores", "2", check=False)
    assert proc.returncode != 0 and f"snakemake <your usual flags> {table}" in proc.stderr
    assert jobs_planned(snakemake(root, "-n", "--cores", "2", table).stdout) == {
        "parse_interactions": 1}
    snakemake(root, "--cores", "2", table)
    assert (root / table).read_bytes() == before  # newer, but the same content: no retraining
    out = snakemake(root, "-n", "--cores", "2")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_a_new_intermediate_is_built_not_refused(finished_demo, tmp_path, snakemake):
    root = _copy_of(finished_demo, tmp_path)
    graph = "data/processed/demo/graphs/lambda~rule/string_v9.1_database.npz"
    (root / graph).unlink()
    assert snakemake(root, "-n", "--cores", "2", check=False).returncode != 0  # built, lost
    # Without Snakemake's record of building it, the file is new (say, a channel just added
    # to graphs.channels, which also changes the training jobs' inputs): no refusal.
    record = base64.urlsafe_b64encode(graph.encode()).decode()
    (root / ".snakemake" / "metadata" / record).unlink()
    out = snakemake(root, "-n", "--cores", "2")
    assert "refusing" not in out.stdout + out.stderr


def test_adding_sweep_values_runs_only_the_new_jobs(finished_demo, snakemake):
    (finished_demo / "sweep2.yaml").write_text(SWEEP_TWO_DIMS)
    out = snakemake(finished_demo, "-n", "--config", "sweep=sweep2.yaml")
    jobs = jobs_planned(out.stdout)
    # DANGO: 3 new point x seed runs (dim 32 x 2 seeds, dim 64 seed 1); dim 32 needs its own
    # 6 pretrained networks. The baselines: seed 1 only. Nothing upstream of pretraining.
    assert jobs == {"pretrain_network": 6, "train_model": 3, "fit_estimator": 2,
                    "evaluate_model": 5, "aggregate_metrics": 1, "all": 1}


def test_adding_a_model_runs_only_that_models_jobs(finished_demo, snakemake):
    (finished_demo / "sweep_rf.yaml").write_text(
        sweep_with_models("dango", "additive", "mean", "rf_pair_features"))
    out = snakemake(finished_demo, "-n", "--config", "sweep=sweep_rf.yaml")
    # rf_pair_features reads graphs built with λ = 1 (it does not reconstruct networks).
    assert jobs_planned(out.stdout) == {"build_graph": 6, "fit_estimator": 1,
                                        "evaluate_model": 1, "aggregate_metrics": 1, "all": 1}


def test_adding_dcell_builds_the_ontology_and_runs_only_its_jobs(finished_demo, snakemake):
    (finished_demo / "sweep_dcell.yaml").write_text(
        sweep_with_models("dango", "additive", "mean", "dcell"))
    out = snakemake(finished_demo, "-n", "--config", "sweep=sweep_dcell.yaml")
    # The demo's synthetic GO is already there (written with the other raw files).
    assert jobs_planned(out.stdout) == {"parse_ontology": 1, "train_model": 1,
                                        "interpret_dcell": 1, "evaluate_model": 1,
                                        "aggregate_metrics": 1, "all": 1}
    (finished_demo / "dcell_epochs.yaml").write_text("dcell:\n  epochs: 7\n")
    out = snakemake(finished_demo, "-n", "--configfile", "dcell_epochs.yaml")
    assert "train_model" not in jobs_planned(out.stdout)  # not in the default grid


def test_changing_a_baseline_setting_reruns_only_that_model(finished_demo, snakemake):
    (finished_demo / "alphas.yaml").write_text("baselines:\n  additive:\n    alphas: [1.0]\n")
    out = snakemake(finished_demo, "-n", "--configfile", "alphas.yaml")
    assert jobs_planned(out.stdout) == {"fit_estimator": 1, "evaluate_model": 1,
                                        "aggregate_metrics": 1, "all": 1}


def test_changing_a_shared_training_knob_reruns_only_training(finished_demo, snakemake):
    (finished_demo / "patience.yaml").write_text("train:\n  patience: 5\n")
    out = snakemake(finished_demo, "-n", "--configfile", "patience.yaml")
    assert jobs_planned(out.stdout) == {"train_model": 1, "evaluate_model": 1,
                                         "aggregate_metrics": 1, "all": 1}


def test_dag_has_one_pretraining_job_per_network_and_one_training_job_per_point_and_seed(
        workflow_copy, snakemake):
    (workflow_copy / "sweep2.yaml").write_text(SWEEP_TWO_DIMS)
    jobs = jobs_planned(snakemake(workflow_copy, "-n", "--config", "sweep=sweep2.yaml").stdout)
    assert jobs["build_graph"] == 6            # 6 channels, one λ mode
    assert jobs["pretrain_network"] == 12      # 6 networks x 2 embedding sizes
    assert jobs["train_model"] == 4            # 2 points x 2 seeds
    assert jobs["fit_estimator"] == 4          # additive, mean x 2 seeds
    assert jobs["evaluate_model"] == 8


def test_a_baselines_only_sweep_plans_no_pretraining_and_no_graphs(workflow_copy, snakemake):
    (workflow_copy / "baselines.yaml").write_text(sweep_with_models("additive", "mean"))
    jobs = jobs_planned(snakemake(workflow_copy, "-n", "--config",
                                  "sweep=baselines.yaml").stdout)
    assert "pretrain_network" not in jobs and "build_graph" not in jobs
    assert "train_model" not in jobs and jobs["fit_estimator"] == 2


def test_an_unknown_model_is_rejected_before_any_job(workflow_copy, snakemake):
    (workflow_copy / "bad.yaml").write_text(sweep_with_models("dango", "gpt"))
    proc = snakemake(workflow_copy, "-n", "--config", "sweep=bad.yaml", check=False)
    assert proc.returncode != 0 and "gpt" in proc.stdout + proc.stderr


def test_exponent_numbers_without_a_dot_are_numbers(workflow_copy, snakemake):
    # YAML 1.1 reads 1e-3 as a string; the schema wants a number: the workflow coerces it.
    (workflow_copy / "lr.yaml").write_text(
        "grid:\n  model: [dango]\n  split: [random0]\nmodels:\n  dango: {lr: [1e-3, 3e-3]}\n"
        "seeds: [0]\n")
    (workflow_copy / "wd.yaml").write_text("sweep: lr.yaml\ntrain: {weight_decay: 1e-4}\n")
    out = snakemake(workflow_copy, "-n", "-p", "--configfile", "wd.yaml")
    assert jobs_planned(out.stdout)["train_model"] == 2
    assert "lr~0.001/" in out.stdout and "lr~0.003/" in out.stdout
    assert "--weight-decay 0.0001" in out.stdout


def test_a_bad_config_value_is_rejected_before_any_job(workflow_copy, snakemake):
    proc = snakemake(workflow_copy, "-n", "--config", "genes={'universe': 'everything'}",
                     check=False)
    assert proc.returncode != 0
    assert "everything" in proc.stdout + proc.stderr


def test_real_data_dag_builds_offline(workflow_copy, snakemake):
    proc = snakemake(workflow_copy, "-n", "--configfile", "config/real.yaml")
    out = proc.stdout + proc.stderr
    for source in ("string_v9.1", "string_v12.0", "kuzmin2018", "kuzmin2020_s1", "sgd_features"):
        assert f"source={source}" in out
    # Downloads without a pinned sha256 are announced at parse time (and none otherwise).
    downloads = yaml.safe_load((workflow_copy / "config" / "real.yaml").read_text())["data"][
        "downloads"]
    unpinned = sorted(name for name, spec in downloads.items() if not spec.get("sha256"))
    if unpinned:
        assert f"will be refused: {', '.join(unpinned)}." in out
    else:
        assert "will be refused" not in out


def test_lint_is_clean(workflow_copy, snakemake):
    out = snakemake(workflow_copy, "--lint")
    assert "Lints for" not in out.stdout + out.stderr


def test_graph_sets_plan_only_the_sources_they_name(workflow_copy, snakemake):
    (workflow_copy / "sets.yaml").write_text(
        "grid:\n  model: [dango, multigraph, fba]\n  split: [gene1]\nmodels:\n"
        "  dango: {graphs: [string9.1, string9.1+physical]}\n"
        "  multigraph: {graphs: [tflink+metabolism]}\nseeds: [0]\n")
    out = snakemake(workflow_copy, "-n", "-p", "--config", "sweep=sets.yaml").stdout
    jobs = jobs_planned(out)
    # biogrid for physical, tflink; metabolism for multigraph's relations and for FBA.
    assert jobs["parse_network_source"] == 2 and jobs["parse_metabolism"] == 1
    assert "networks/regulation.parquet" not in out
    # 6 STRING channels + physical (λ rule, DANGO); tflink (λ one; multigraph reads the
    # metabolic relations, not their gene–gene projection).
    assert jobs["build_graph"] == 8 and jobs["pretrain_network"] == 7
    assert jobs["fba_growth"] == 4 and jobs["train_model"] == 3
    assert "--metabolism data/processed/demo/metabolism" in out
    assert "graphs~string9.1+physical/" in out


def test_a_misspelt_graph_set_is_refused_with_the_known_components(workflow_copy, snakemake):
    (workflow_copy / "bad.yaml").write_text(
        "grid:\n  model: [multigraph]\nmodels:\n  multigraph: {graphs: [string9.1+ppi]}\n"
        "seeds: [0]\n")
    proc = snakemake(workflow_copy, "-n", "--config", "sweep=bad.yaml", check=False)
    assert proc.returncode != 0 and "string9.1+ppi" in proc.stdout + proc.stderr


def test_hetero_sagpool_pretrained_features_plan_the_networks_pretraining(workflow_copy,
                                                                         snakemake):
    """features~pretrained adds the embeddings of its networks' pretraining (at DANGO's default
    variant, dim and λ mode, not hetero_sagpool's own dim) as inputs; features~learned needs no
    pretraining at all."""
    (workflow_copy / "classes.yaml").write_text(
        "grid:\n  model: [hetero_sagpool]\n  split: [random0]\nmodels:\n"
        "  hetero_sagpool: {graphs: [physical+regulatory], features: [learned, pretrained]}\n"
        "seeds: [0]\n")
    out = snakemake(workflow_copy, "-n", "-p", "--config", "sweep=classes.yaml").stdout
    jobs = jobs_planned(out)
    assert jobs["train_model"] == 2 and jobs["pretrain_network"] == 2
    assert jobs["parse_network_source"] == 2  # BioGRID and YEASTRACT, nothing else
    pretrained = "results/demo/pretrain/variant~spec/dim~64/lambda~rule"
    assert f"--embeddings {pretrained}/physical/embeddings.pt {pretrained}/regulatory/" in out
    assert "--features pretrained" in out and "--features learned" in out
    assert "--strong-threshold 0.05" in out  # its classes are evaluate's
