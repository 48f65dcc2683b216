"""Pretraining, joint training and evaluation end to end on a tiny synthetic data set, through
the same CLI subcommands the workflow calls."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from demo_stages import evaluate, inputs_args, prepare, pretrain_all, run, train_args

from geneint.data.canonical import read_interactions


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    data = prepare(tmp_path_factory.mktemp("tiny"), channels=("coexpression", "experimental"))
    return data, pretrain_all(data, epochs=4)


def test_pretraining_outputs_and_reconstruction_improves(tiny):
    data, pretrained = tiny
    out = pretrained[0].parent
    state = torch.load(out / "pretrained.pt", weights_only=False)
    assert state["network"] == "string_v9.1_coexpression"
    assert state["lam"] in (0.1, 1.0)
    assert set(state) >= {"encoder", "recon_head", "embedding", "model_config"}
    emb = torch.load(out / "embeddings.pt", weights_only=False)
    genes = data.genes.read_text().split()[1:]
    assert emb["embeddings"].shape == (len(genes), 64) and emb["genes"] == genes
    curve = pd.read_csv(out / "metrics.csv")["train/reconstruction"].dropna().to_numpy()
    assert len(curve) == 4 and curve[-1] < curve[0]
    # Every network starts from the same frozen table: that is what makes it "shared".
    other = torch.load(pretrained[1], weights_only=False)
    assert torch.equal(state["embedding"], other["embedding"])


def test_joint_training_evaluation_and_lr_schedule(tiny, tmp_path):
    data, pretrained = tiny
    out = tmp_path / "train"
    run(*train_args(data, pretrained, out, epochs=3))
    assert (out / "best.ckpt").exists() and not (tmp_path / "train.work").exists()
    curve = pd.read_csv(out / "metrics.csv")
    assert curve["val/pearson"].notna().sum() == 3
    lrs = curve["lr-AdamW"].dropna().to_numpy()
    assert lrs[-1] < lrs[0]  # the scheduler really steps (TorchCell's never did)
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 1 and summary["epochs_run"] == 3

    metrics = evaluate(data, out, tmp_path / "eval")
    for key in ("pearson", "spearman", "mse", "auroc", "auprc", "pearson_strong",
                "oracle_pearson"):
        assert key in metrics["test"]
    assert metrics["test"]["n"] == summary["sets"]["test"]
    assert metrics["train"]["n"] == summary["sets"]["train"]
    preds = pd.read_parquet(out / "predictions.parquet")
    table = read_interactions(data.interactions)
    test = preds[preds["role"] == "test"]
    assert (table.loc[test["set_id"], "gene_a"].to_numpy() == test["gene_a"].to_numpy()).all()
    assert (table.loc[test["set_id"], "tau"].to_numpy() == pytest.approx(test["tau"].to_numpy()))


def test_identical_seeds_give_identical_metrics(tiny, tmp_path):
    data, pretrained = tiny
    for name in ("a", "b"):
        run(*train_args(data, pretrained, tmp_path / name, epochs=2, extra=("--seed", "3")))
    a = evaluate(data, tmp_path / "a", tmp_path / "eval_a")["test"]
    b = evaluate(data, tmp_path / "b", tmp_path / "eval_b")["test"]
    assert a == b
    run(*train_args(data, pretrained, tmp_path / "c", epochs=2, extra=("--seed", "4")))
    c = evaluate(data, tmp_path / "c", tmp_path / "eval_c")["test"]
    assert c["pearson"] != a["pearson"]


def test_alpha_schedules_and_training_from_scratch(tiny, tmp_path):
    data, pretrained = tiny
    run(*train_args(data, pretrained, tmp_path / "pp", epochs=3,
                    extra=("--alpha-schedule", "pre_then_post", "--alpha-epochs", "2")))
    alpha = pd.read_csv(tmp_path / "pp" / "metrics.csv")["train/alpha"].dropna().tolist()
    assert alpha == [1.0, 1.0, 0.0]
    args = train_args(data, pretrained, tmp_path / "scratch", epochs=2)
    i = args.index("--pretrained")
    del args[i:i + 1 + len(pretrained)]
    run(*args)
    assert (tmp_path / "scratch" / "best.ckpt").exists()


def test_original_variant_runs_with_its_quirks(tiny, tmp_path):
    data, _ = tiny
    pretrained = pretrain_all(data, epochs=2, tag="original", extra=("--variant", "original"))
    out = tmp_path / "orig"
    run(*train_args(data, pretrained, out, epochs=6, extra=("--variant", "original")))
    hparams = torch.load(out / "best.ckpt", weights_only=False)["hyper_parameters"]
    config = hparams["model_config"]
    assert config["output"] == "dynamic" and config["num_heads"] == 8
    assert config["num_attention_layers"] == 1 and config["num_sampled_neighbors"] == 5
    assert config["activation"] == "swish" and not config["self_mask"]
    assert config["meta_layers"] == 1
    # ... and its training: the original's reconstruction loss, summed over networks, Adam
    # without decay, schedule or clipping, and the mean of the 5 best checkpoints.
    assert hparams["weight_decay"] == 0.0 and hparams["scheduler"] == "none"
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["train"]["recon_loss"] == "original"
    assert summary["train"]["recon_reduction"] == "sum"
    assert summary["train"]["gradient_clip"] == 0.0
    assert len(summary["predicted_by_epochs"]) == 5
    assert set(summary["variant_overrode"]) == {"recon_loss", "recon_reduction", "average_top_k",
                                                "weight_decay", "lr_scheduler", "gradient_clip"}
    # metrics.json says which quirks were on
    metrics = evaluate(data, out, tmp_path / "eval")
    assert metrics["test"]["n"] > 0 and metrics["variant"] == "original"
    assert metrics["variant_training"]["recon_reduction"] == "sum"
    assert metrics["variant_overrode"] == summary["variant_overrode"]
    # Spec-pretrained networks do not fit the original architecture: a clear error, not a guess.
    spec = [data.pretrain_dir(g) / "pretrained.pt" for g in data.graphs]
    with pytest.raises(ValueError, match="pretrained state of .* does not fit this model"):
        from geneint.cli import build_parser
        from geneint.cli.model_commands import cmd_train

        cmd_train(build_parser().parse_args(
            train_args(data, spec, tmp_path / "bad", epochs=1, extra=("--variant", "original"))))


def _kill_after_first_checkpoint(cmd: list[str], work: Path, grace: float) -> int:
    """Run ``cmd``, SIGKILL it ``grace`` s after its first ``last.ckpt`` in ``work`` (a crash,
    not a stop); returns the epoch that checkpoint holds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 120
    while not (work / "last.ckpt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(grace)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (work / "last.ckpt").exists(), f"{cmd[3]} never wrote a resumable checkpoint"
    return torch.load(work / "last.ckpt", weights_only=False)["epoch"]


@pytest.mark.slow  # minutes on 2 cores: the full suite (CI) runs it
def test_a_killed_training_job_resumes_from_its_last_checkpoint(tiny, tmp_path):
    data, pretrained = tiny
    out = tmp_path / "train"
    work = tmp_path / "train.work"
    cmd = [sys.executable, "-m", "geneint.cli", *train_args(data, pretrained, out, epochs=40,
                                                             extra=("--patience", "100"))]
    done = _kill_after_first_checkpoint(cmd, work, grace=1.0)
    assert not (out / "best.ckpt").exists()
    log = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    assert "resuming from" in log
    epochs = pd.read_csv(out / "metrics.csv")["epoch"].dropna()
    assert epochs.max() == 39 and epochs.min() <= done  # one curve spanning both runs


@pytest.mark.slow  # minutes on 2 cores: the full suite (CI) runs it
def test_a_killed_pretraining_job_resumes_from_its_last_checkpoint(tiny, tmp_path):
    data, _ = tiny
    out, work, epochs = tmp_path / "pre", tmp_path / "pre.work", 80
    cmd = [sys.executable, "-m", "geneint.cli", "pretrain", "--graph", str(data.graphs[0]),
           "--genes", str(data.genes), "--epochs", str(epochs), "--no-progress-bar",
           "--out", str(out)]
    done = _kill_after_first_checkpoint(cmd, work, grace=0.5)
    assert 0 < done < epochs - 1 and not (out / "pretrained.pt").exists()
    log = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    assert "resuming from last.ckpt" in log
    curve = pd.read_csv(out / "metrics.csv")["epoch"].dropna().astype(int)
    # One curve spanning both runs. Lightning checkpoints an epoch before logging it: a kill
    # in between loses that one epoch's row (the epoch before the resumed one), and says so.
    missing = sorted(set(range(epochs)) - set(curve))
    assert missing == [] or (len(missing) == 1
                             and f"no metrics for epoch(s) {missing}" in log), missing
    assert (out / "pretrained.pt").exists() and not work.exists()


@pytest.mark.slow  # minutes on 2 cores: the full suite (CI) runs it
def test_ddp_gathers_the_whole_validation_set(tiny, tmp_path):
    """Two gloo processes on CPU: validation metrics cover every set exactly once."""
    data, pretrained = tiny
    out = tmp_path / "ddp"
    # In a process of its own: Lightning launches the other rank by re-running the command.
    subprocess.run([sys.executable, "-m", "geneint.cli",
                    *train_args(data, pretrained, out, epochs=1, extra=("--devices", "2"))],
                   check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2
    curve = pd.read_csv(out / "metrics.csv")
    # DistributedSampler pads ranks with repeated sets; they must be dropped, not counted twice.
    assert curve["val/n"].dropna().iloc[-1] == summary["sets"]["val"]


@pytest.mark.slow  # two processes with a whole-genome GNN each: ~30 s on 2 cores
def test_multigraph_trains_under_ddp_with_the_metabolic_relations(tiny, tmp_path):
    """multigraph as DANGO: two gloo ranks, every parameter used (DDP would fail otherwise),
    the whole validation set gathered; the cell graph has genes, reactions and metabolites."""
    data, _ = tiny
    out = tmp_path / "multigraph"
    subprocess.run([sys.executable, "-m", "geneint.cli", *inputs_args(data, "multigraph"),
                    "--graphs", str(data.graphs[0]), str(data.networks["regulatory"]),
                    "--metabolism", str(data.metabolism), "--epochs", "1", "--devices", "2",
                    "--no-progress-bar", "--out", str(out)],
                   check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2
    assert set(summary["cell_graph"]["nodes"]) == {"gene", "reaction", "metabolite"}
    assert {"gene__regulatory__gene", "gene__regulatory_reverse__gene",
            "metabolite__stoichiometry__reaction"} <= set(summary["cell_graph"]["edges"])
    curve = pd.read_csv(out / "metrics.csv")
    assert curve["val/n"].dropna().iloc[-1] == summary["sets"]["val"]
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert predictions["tau_pred"].notna().all() and predictions["tau_pred"].std() > 0


@pytest.mark.slow  # minutes on 2 cores: the full suite (CI) runs it
def test_submitit_local_executor_runs_two_rank_ddp(tiny, tmp_path):
    """`geneint submit --cluster local`: submitit starts two processes, the exported
    torch.distributed variables give Lightning its geometry, rank 0 writes the outputs."""
    data, pretrained = tiny
    out = tmp_path / "submitted"
    proc = subprocess.run(
        [sys.executable, "-m", "geneint.cli", "submit", "--cluster", "local",
         "--tasks-per-node", "2", "--folder", str(tmp_path / "logs"), "--timeout-min", "10",
         "--wait", "--", *train_args(data, pretrained, out, epochs=1)],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert (summary["world_size"], summary["launcher"]) == (2, "torchrun/submitit")
    task_logs = "".join(p.read_text() for p in (tmp_path / "logs").rglob("*.err"))
    assert "rank 1 of world size 2" in task_logs and "rank 0 of world size 2" in task_logs


@pytest.mark.parametrize("num_genes, batch_size, sizes", [
    (6608, 6607, [3304, 3304]),  # not 6607 + a runt batch of 1
    (10, 3, [3, 3, 2, 2]),
    (5, 96, [5]),
    (96, 96, [96]),
])
def test_gene_batches_are_even_and_cover_every_gene_once(num_genes, batch_size, sizes):
    from geneint.train.data import GeneDataModule

    torch.manual_seed(0)
    loader = GeneDataModule(num_genes, batch_size).train_dataloader()
    batches = [genes for (genes,) in loader]
    assert [len(b) for b in batches] == sizes and len(loader) == len(sizes)
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(num_genes))
    torch.manual_seed(0)
    again = [genes for (genes,) in GeneDataModule(num_genes, batch_size).train_dataloader()]
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))  # seeded


def test_pairs_and_triples_train_together_and_are_scored_per_arity(tiny, tmp_path):
    data, pretrained = tiny
    mixed = tmp_path / "mixed.parquet"
    run("split", "--interactions", str(data.interactions), "--kind", "random", "--arities",
        "2", "3", "--out", str(mixed))
    data = dataclasses.replace(data, split=mixed)
    run(*train_args(data, pretrained, tmp_path / "dango", epochs=1))
    run(*inputs_args(data, "additive"), "--out", str(tmp_path / "additive"))
    # Pairs and triples are standardised each with their own training mean and sd.
    saved = torch.load(tmp_path / "dango" / "best.ckpt", weights_only=False)
    scale = saved["hyper_parameters"]["tau_scale"]
    frame, split = read_interactions(data.interactions), pd.read_parquet(mixed)
    train = frame.iloc[split.loc[(split["fold"] == 0) & (split["role"] == "train"), "set_id"]]
    for arity in (2, 3):
        tau = train.loc[train["arity"] == arity, "tau"]
        assert scale[str(arity)] == pytest.approx([tau.mean(), tau.std()], rel=1e-4)
    for model in ("dango", "additive"):
        metrics = evaluate(data, tmp_path / model, tmp_path / f"eval_{model}")
        by_arity = metrics["by_arity"]["test"]
        assert set(by_arity) == {"2", "3"}
        assert by_arity["2"]["n"] + by_arity["3"]["n"] == metrics["test"]["n"]


def test_predictions_can_average_the_best_checkpoints(tiny, tmp_path):
    data, pretrained = tiny
    run(*train_args(data, pretrained, tmp_path / "top2", epochs=3,
                    extra=("--average-top-k", "2", "--seed", "5")))
    run(*train_args(data, pretrained, tmp_path / "top1", epochs=3, extra=("--seed", "5")))
    top2 = json.loads((tmp_path / "top2" / "train_summary.json").read_text())
    top1 = json.loads((tmp_path / "top1" / "train_summary.json").read_text())
    assert len(top2["predicted_by_epochs"]) == 2 and len(top1["predicted_by_epochs"]) == 1
    assert top1["predicted_by_epochs"][0] == top2["predicted_by_epochs"][0]  # same training
    pred1 = pd.read_parquet(tmp_path / "top1" / "predictions.parquet")["tau_pred"]
    pred2 = pd.read_parquet(tmp_path / "top2" / "predictions.parquet")["tau_pred"]
    assert not np.allclose(pred1, pred2)  # a second checkpoint joined the mean
