"""Execution profiles and interruption: profiles/slurm plans correct sbatch geometry on a machine
without Slurm, and a training job killed together with Snakemake resumes on the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from workflow_runs import copy_workflow, run_snakemake, slurm_profile_with

SLURM_CLIENTS = {"sbatch", "srun", "squeue", "sacct", "scontrol", "sinfo", "scancel",
                 "sacctmgr", "sshare", "salloc", "sstat", "sattach", "sbcast", "sdiag",
                 "sprio", "sreport", "sview", "strigger", "scrontab"}


@pytest.fixture()
def path_without_slurm(tmp_path) -> str:
    """PATH with the system's tools but none of Slurm's (as on a laptop)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(folder).glob("*"):
            link = bin_dir / tool.name
            if tool.name not in SLURM_CLIENTS and not os.path.lexists(link):
                link.symlink_to(tool)
    return f"{Path(sys.executable).parent}{os.pathsep}{bin_dir}"


def planned_job(output: str, rule: str) -> tuple[str, str]:
    """(resources line, shell command) of the first job of ``rule`` in a dry run with -p."""
    block = output.split(f"rule {rule}:")[1]
    resources = next(line for line in block.splitlines() if "resources:" in line)
    shell = block.split("Shell command:")[1].splitlines()[0].strip()
    return resources, shell


def dry_run_with_profile(workdir: Path, profile: str, path: str) -> str:
    proc = run_snakemake(workdir, "-n", "-p", "--profile", profile, "--cores", "64",
                         env={"PATH": path})
    return proc.stdout + proc.stderr


def test_slurm_profile_dry_runs_without_slurm_and_plans_multi_node_ddp(workflow_copy,
                                                                       path_without_slurm):
    out = dry_run_with_profile(workflow_copy, "profiles/slurm", path_without_slurm)
    resources, shell = planned_job(out, "train_model")
    for item in ("nodes=2", "tasks_per_node=4", "gres=gpu:4", "mpi=srun", "cpus_per_task=16",
                 "slurm_partition=gpuA100x4", "slurm_extra=--signal=SIGUSR1@90"):
        assert item in resources, resources
    assert "gpu=" not in resources.replace("gres=gpu", "")  # per-job GPUs would break 2 nodes
    # srun gets explicit geometry (the jobstep strips the allocation's), threads are per rank.
    assert shell.startswith("srun --nodes=2 --ntasks-per-node=4 --cpus-per-task=16 ")
    assert "geneint train" in shell and "--threads 16" in shell
    pretrain, _ = planned_job(out, "pretrain_network")
    assert "gpu=1" in pretrain and "slurm_partition=gpuA100x4" in pretrain
    parse, _ = planned_job(out, "parse_string")
    assert "slurm_partition=cpu" in parse


@pytest.mark.parametrize("nodes, gpus, expected, absent", [
    (2, 1, ("tasks=2", "tasks_per_gpu=0", "--ntasks-per-node=1", "mpi=srun"),
     ("tasks_per_node",)),
    (1, 1, ("gres=gpu:1", "slurm_extra=--signal=SIGUSR1@90"), ("mpi=", "launcher=srun")),
])
def test_slurm_profile_shapes_for_one_gpu_per_node(workflow_copy, path_without_slurm, nodes,
                                                   gpus, expected, absent):
    """The plugin refuses tasks_per_node 1, and one rank must not be an MPI job."""
    slurm_profile_with(workflow_copy / "sized", train_nodes=nodes, gpus_per_node=gpus)
    resources, shell = planned_job(dry_run_with_profile(workflow_copy, "sized",
                                                        path_without_slurm), "train_model")
    for item in expected:
        assert item in resources, resources
    for item in absent:
        assert item not in resources, resources
    assert shell.startswith("srun " if nodes * gpus > 1 else "geneint train"), shell


def _kill_everything_started_in(workdir: Path) -> None:
    """SIGKILL every process whose working directory is ``workdir`` (a crash, not a stop)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(os.readlink(proc / "cwd")) == workdir:
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


@pytest.mark.slow
def test_a_training_job_killed_with_snakemake_resumes_on_the_next_run(tmp_path):
    root = copy_workflow(tmp_path / "wf")
    (root / "quick.yaml").write_text("pretrain: {epochs: 2}\ntrain: {epochs: 20, patience: 100}\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    first = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", "--configfile",
                              "quick.yaml"], cwd=root, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = root / "results" / "demo" / ".work" / "train"  # pretraining checkpoints too
    deadline = time.time() + 600
    while time.time() < deadline and first.poll() is None and not list(work.rglob("last.ckpt")):
        time.sleep(0.5)
    time.sleep(2)  # into the next epoch
    os.killpg(first.pid, signal.SIGKILL)
    _kill_everything_started_in(root)
    first.wait()
    checkpoints = list(work.rglob("last.ckpt"))
    assert checkpoints, "training never reached its first checkpoint"
    assert not list((root / "results" / "demo" / "train" / "model~dango").rglob("best.ckpt"))

    # What a user does after a crash: release the lock the killed run left, run again. The
    # local profile reruns incomplete jobs; training continues from last.ckpt.
    run_snakemake(root, "--unlock")
    run_snakemake(root, "--profile", "profiles/local", "--configfile", "quick.yaml")
    dango = root / "results" / "demo" / "train" / "model~dango"
    summary = json.loads(next(dango.rglob("train_summary.json")).read_text())
    assert summary["resumed_from"] == "last.ckpt"
    curve = pd.read_csv(next(dango.rglob("metrics.csv")))
    assert sorted(curve["epoch"].dropna().astype(int).unique()) == list(range(20))
    assert (root / "results" / "demo" / "summary.tsv").exists()
    assert not work.exists() or not list(work.rglob("*.ckpt"))  # cleaned up after success
