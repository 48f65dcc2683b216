"""profiles/slurm against a real two-node Slurm cluster (tests/slurm/rig.py): the demo DAG end to
end with joint training as 4-rank DDP (2 nodes x 2 tasks, gloo on CPU), agreement with a
single-process run, switching to the local profile without retraining, and a requeue."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from rig import PARTITION, RIG_FLAGS, rig_profile
from workflow_runs import copy_workflow, jobs_planned, run_snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

# Short training keeps the suite in CI's budget; the comparison below is about DDP vs one
# process on identical inputs, not about reaching the demo's best accuracy.
QUICK = ("pretrain: {epochs: 2}\ntrain: {epochs: 10, patience: 100}\n"
         "hetero_sagpool: {epochs: 2}\nsweep: quick_sweep.yaml\n")
# DANGO and the hetero_sagpool classifier as multi-node DDP on the GPU partition, the mean
# baseline as a CPU job.
QUICK_SWEEP = ("grid:\n  model: [dango, hetero_sagpool, mean]\n  split: [random0]\n"
               "models:\n  hetero_sagpool: {graphs: [physical]}\nseeds: [0]\n")
# Test Pearson of the 4-rank run vs the single-process run: they see the same global batches'
# worth of data per step but in a different order (DistributedSampler) and with other
# reconstruction samples — the spread of a change of training seed, measured at ~0.03.
DDP_TOLERANCE = 0.06


def _point_file(root: Path, stage: str, name: str, model: str = "dango") -> Path:
    files = list((root / "results" / "demo" / stage / f"model~{model}").rglob(name))
    assert len(files) == 1, files
    return files[0]


def _train_log(root: Path) -> str:
    logs = list((root / "logs" / "demo" / "train" / "model~dango").rglob("seed0.log"))
    assert len(logs) == 1, logs
    return logs[0].read_text()


def _slurm_jobs(rule: str) -> list[dict[str, str]]:
    """`scontrol show job` fields of the rig's jobs for one rule (newest last)."""
    ids = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%k"], capture_output=True,
                         text=True, check=True).stdout.split()
    jobs = []
    for line in ids:
        job_id, comment = line.split("|", 1)
        if comment.startswith(f"rule_{rule}"):
            text = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True,
                                  text=True, check=True).stdout
            jobs.append(dict(re.findall(r"(\w[\w/:]*)=(\S*)", text)))
    return sorted(jobs, key=lambda j: int(j["JobId"]))


@pytest.fixture(scope="module")
def slurm_demo(slurm_cluster, tmp_path_factory):
    """The demo DAG run once through profiles/slurm (rig partition and sizes)."""
    root = copy_workflow(tmp_path_factory.mktemp("slurm_demo"))
    (root / "quick.yaml").write_text(QUICK)
    (root / "quick_sweep.yaml").write_text(QUICK_SWEEP)
    rig_profile(root / "rig_profile")
    run_snakemake(root, "--profile", "rig_profile", "--configfile", "quick.yaml", *RIG_FLAGS,
                  timeout=1800)
    return root


def test_demo_dag_runs_with_joint_training_as_four_rank_ddp(slurm_demo):
    summary = pd.read_csv(slurm_demo / "results" / "demo" / "summary.tsv", sep="\t")
    assert sorted(summary["model"]) == ["dango", "hetero_sagpool", "mean"]
    assert summary.set_index("model").loc["dango", "test_pearson"] > 0.3
    # The classifier goes through the same rule, profile resources and DDP geometry.
    classifier = json.loads(
        _point_file(slurm_demo, "train", "train_summary.json", "hetero_sagpool").read_text())
    assert (classifier["world_size"], classifier["num_nodes"]) == (4, 2)
    assert classifier["selected_by"] == "val/loss"
    assert len(_slurm_jobs("fit_estimator")) == 1  # the mean, as its own (CPU) job
    # The job's own log: four ranks, two per node, one world.
    log = _train_log(slurm_demo)
    ranks = re.findall(r"rank (\d) of world size (\d) \(2 node\(s\) x 2 process\(es\), "
                       r"launcher slurm\) on host \S+ node (n\d)", log)
    assert sorted(ranks) == [("0", "4", "n1"), ("1", "4", "n1"), ("2", "4", "n2"),
                             ("3", "4", "n2")]
    assert "Initializing distributed: GLOBAL_RANK: 3, MEMBER: 4/4" in log
    train = json.loads(_point_file(slurm_demo, "train", "train_summary.json").read_text())
    assert (train["world_size"], train["num_nodes"], train["launcher"]) == (4, 2, "slurm")
    assert train["batch_size_per_rank"] * 4 == 1024  # the global batch is the configured one
    # What Slurm allocated: the geometry the profile derives from its variables.
    job = _slurm_jobs("train_model")[-1]
    assert (job["NumNodes"], job["NumTasks"], job["TresPerNode"]) == ("2", "4", "gres:gpu:2")
    # Pretraining: one job per network, each with one (fake) GPU.
    pretrain_jobs = _slurm_jobs("pretrain_network")
    assert len(pretrain_jobs) == 6
    assert all("gpu:1" in j.get("TresPerJob", "") for j in pretrain_jobs), pretrain_jobs[0]


def test_every_job_runs_with_the_threads_the_profile_gives_it(slurm_demo):
    # A dry run prints `--threads 1` (dry runs cap threads at --cores, 1); inside the job the
    # count is the profile's set-threads value, read here from what each job recorded.
    train = json.loads(_point_file(slurm_demo, "train", "train_summary.json").read_text())
    assert train["threads_per_rank"] == 1  # cpus_per_gpu; the rule's own default gives 2
    mean = json.loads(
        _point_file(slurm_demo, "train", "train_summary.json", model="mean").read_text())
    assert mean["threads"] == 1  # estimator_cpus; the rule's own default gives 2
    logs = list((slurm_demo / "logs" / "demo" / "pretrain").rglob("*.log"))
    assert len(logs) == 6
    for log in logs:  # pretrain_cpus; the rule's own default is 1
        assert re.search(r"threads: 2 \(CPUs this process may use: \d+", log.read_text()), log


def test_local_profile_sees_slurm_results_as_done_and_one_process_agrees(slurm_demo,
                                                                         tmp_path):
    local = tmp_path / "local"
    shutil.copytree(slurm_demo, local, symlinks=True)
    # Switching launcher is not a reason to rerun anything...
    dry = run_snakemake(local, "-n", "--profile", "profiles/local", "--configfile", "quick.yaml")
    assert jobs_planned(dry.stdout + dry.stderr) == {}, dry.stdout[-2000:]
    # ...and forcing training to run here, as one process, gives a matching model.
    run_snakemake(local, "--profile", "profiles/local", "--configfile", "quick.yaml",
                  "--forcerun", "train_model", timeout=1800)
    single = json.loads(_point_file(local, "train", "train_summary.json").read_text())
    assert (single["world_size"], single["launcher"]) == (1, "single")
    ddp = json.loads(_point_file(slurm_demo, "eval", "metrics.json").read_text())
    one = json.loads(_point_file(local, "eval", "metrics.json").read_text())
    assert abs(ddp["test"]["pearson"] - one["test"]["pearson"]) <= DDP_TOLERANCE, (ddp, one)


def test_a_failing_slurm_job_shows_its_log_on_the_console(slurm_demo, tmp_path):
    root = tmp_path / "failing"
    shutil.copytree(slurm_demo, root, symlinks=True)
    raw = root / "data" / "raw" / "synthetic" / "string" / "4932.protein.links.detailed.v9.1.txt.gz"
    raw.write_bytes(raw.read_bytes()[:2000])
    proc = run_snakemake(root, "--profile", "rig_profile", "--configfile", "quick.yaml",
                         *RIG_FLAGS, "data/processed/demo/string/v9.1.parquet", check=False,
                         timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Logfile logs/demo/data/parse_string_v9.1.log" in out, out[-3000:]
    assert "corrupt or truncated gzip stream" in out


def _signal_once_running(root: Path, rule: str, ready, events: dict[str, object]) -> None:
    """SIGUSR1 (what `--signal=SIGUSR1@90` sends before the time limit) to the first running job
    of ``rule`` for which ``ready(job)`` holds; then let its requeued run start at once."""
    deadline = time.time() + 900
    while time.time() < deadline:
        jobs = [j for j in _slurm_jobs(rule) if j["JobState"] == "RUNNING"
                and j["WorkDir"] == str(root) and ready(j)]
        if jobs:
            job_id = jobs[-1]["JobId"]
            subprocess.run(["scancel", "--signal=USR1", job_id], check=True)
            events["signalled"] = job_id
            events["comment"] = jobs[-1].get("Comment", "")
            break
        time.sleep(1)
    else:
        return
    # A requeued job waits for its BeginTime (~2 min); let it start at once.
    while time.time() < deadline:
        job = {j["JobId"]: j for j in _slurm_jobs(rule)}.get(job_id, {})
        if job.get("Restarts", "0") != "0":
            events["restarts"] = job["Restarts"]
            if job.get("JobState") == "RUNNING":
                return
            if job.get("Reason") == "BeginTime":
                subprocess.run(["scontrol", "update", f"jobid={job_id}", "starttime=now"],
                               capture_output=True, check=False)
        time.sleep(1)


def _run_with_a_requeue(root: Path, rule: str, ready, *snakemake_args: str) -> dict:
    events: dict[str, object] = {}
    watcher = threading.Thread(target=_signal_once_running, args=(root, rule, ready, events),
                               daemon=True)
    watcher.start()
    run_snakemake(root, "--profile", "rig_profile", *snakemake_args, *RIG_FLAGS, timeout=1800)
    watcher.join(timeout=10)
    assert "signalled" in events, f"{rule} finished before it could be signalled"
    assert events.get("restarts") == "1", events
    return events


def test_requeued_training_resumes_from_its_checkpoint(slurm_demo, tmp_path):
    """SIGUSR1 mid-training: the four ranks save requeue_1.ckpt together and rank 0 requeues
    the job; the restarted job resumes from it and the workflow finishes."""
    root = tmp_path / "requeue"
    shutil.copytree(slurm_demo, root, symlinks=True)
    (root / "longer.yaml").write_text("pretrain: {epochs: 2}\ntrain: {epochs: 16, patience: 100}\n")
    work = root / "results" / "demo" / ".work" / "train"
    _run_with_a_requeue(root, "train_model",
                        lambda job: bool(list(work.rglob("last.ckpt"))),  # an epoch is done
                        "--configfile", "longer.yaml")
    train = json.loads(_point_file(root, "train", "train_summary.json").read_text())
    assert train["resumed_from"] == "requeue_1.ckpt", train
    assert "resuming from" in _train_log(root)
    curve = pd.read_csv(_point_file(root, "train", "metrics.csv"))
    assert sorted(curve["epoch"].dropna().astype(int).unique()) == list(range(16))


def test_requeued_pretraining_resumes_from_its_checkpoint(slurm_demo, tmp_path):
    """The profile gives pretraining jobs SIGUSR1 before their time limit too: the job saves
    requeue_1.ckpt, requeues itself, and the restarted job resumes from it."""
    root = tmp_path / "requeue_pretrain"
    shutil.copytree(slurm_demo, root, symlinks=True)
    epochs = 25
    (root / "longer.yaml").write_text(f"pretrain: {{epochs: {epochs}}}\n")
    work = root / "results" / "demo" / ".work" / "pretrain"

    def one_epoch_done(job: dict) -> bool:
        network = re.search(r"(string_v[0-9.]+_[a-z]+)$", job.get("Comment", "").strip())
        return bool(network and list(work.rglob(f"{network[1]}/last.ckpt")))

    events = _run_with_a_requeue(root, "pretrain_network", one_epoch_done,
                                 "--configfile", "longer.yaml", "--until", "pretrain_network")
    network = re.search(r"(string_v[0-9.]+_[a-z]+)$", str(events["comment"]).strip())[1]
    log = next((root / "logs" / "demo" / "pretrain").rglob(f"{network}.log")).read_text()
    assert "resuming from requeue_1.ckpt" in log, log[-2000:]
    curve = pd.read_csv(next((root / "results" / "demo" / "pretrain").rglob(
        f"{network}/metrics.csv")))
    logged = sorted(curve["epoch"].dropna().astype(int).unique())
    # One curve over both runs; the epoch cut by the requeue (saved mid-epoch) may lack its row,
    # since pretraining's gene sampler cannot resume mid-epoch.
    assert logged[-1] == epochs - 1 and len(logged) >= epochs - 1, logged
    assert not list(work.rglob(f"{network}/*.ckpt"))  # finished: no resumable state left


def test_submitit_slurm_executor_runs_two_node_ddp(slurm_demo, tmp_path):
    """`geneint submit --cluster slurm`: one sbatch job, srun starts 2 x 2 ranks, Lightning
    takes the geometry from Slurm."""
    demo = slurm_demo
    processed = demo / "data" / "processed" / "demo"
    graphs = sorted((processed / "graphs" / "lambda~rule").glob("*.npz"))
    pretrained = [next((demo / "results" / "demo" / "pretrain").rglob(f"{g.stem}/pretrained.pt"))
                  for g in graphs]
    out = tmp_path / "submitted"
    train = ["dango", "--interactions", str(processed / "interactions.parquet"),
             "--genes", str(processed / "genes.tsv"),
             "--split", str(processed / "splits" / "random.parquet"),
             "--graphs", *map(str, graphs), "--pretrained", *map(str, pretrained),
             "--epochs", "1", "--batch-size", "1024", "--no-progress-bar", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "geneint.cli", "submit", "--cluster", "slurm", "--nodes", "2",
         "--tasks-per-node", "2", "--cpus-per-task", "1", "--mem-gb", "2",
         "--partition", PARTITION, "--timeout-min", "20", "--folder", str(tmp_path / "logs"),
         "--wait", "--", *train],
        capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert (summary["world_size"], summary["num_nodes"], summary["launcher"]) == (4, 2, "slurm")


def test_response_models_run_as_one_gpu_job_per_model_and_seed(slurm_cluster, tmp_path):
    """The perturbation study's response task through profiles/slurm: GRAPE as one (fake) GPU
    job per seed, its baseline as a CPU job; the local profile then finds nothing to do."""
    root = copy_workflow(tmp_path / "response")
    (root / "quick.yaml").write_text(
        "perturbation:\n  response:\n    models: [mean, grape]\n    seeds: [0, 1]\n"
        "    grape: {epochs: 3}\n")
    rig_profile(root / "rig_profile")
    run_snakemake(root, "perturbation_response", "--profile", "rig_profile", "--configfile",
                  "quick.yaml", *RIG_FLAGS, timeout=1200)
    summary = pd.read_csv(root / "results/demo/perturbation/synthetic/response/summary.tsv",
                          sep="\t")
    assert summary.groupby("model").size().to_dict() == {"grape": 2, "mean": 1}
    grape_jobs = _slurm_jobs("train_response_model")
    assert len(grape_jobs) == 2
    assert all("gpu:1" in j.get("TresPerJob", "") for j in grape_jobs), grape_jobs[0]
    baseline_jobs = _slurm_jobs("predict_baseline_response")
    assert len(baseline_jobs) == 1 and "gpu" not in baseline_jobs[0].get("TresPerJob", "")
    dry = run_snakemake(root, "perturbation_response", "-n", "--profile", "profiles/local",
                        "--configfile", "quick.yaml")
    assert jobs_planned(dry.stdout + dry.stderr) == {}
