"""Where a training process runs: its DDP geometry, and the checkpoint it resumes from.

Under Slurm the ranks are started by ``srun`` (one task per GPU) and Lightning reads rank and
world size from the ``SLURM_*`` variables; its ``devices``/``num_nodes`` must then equal the
step's tasks per node and node count, so they are taken from the same variables here rather
than passed separately (a mismatch is an error, never a silent single-rank run). torchrun and
submitit's local executor export ``WORLD_SIZE``/``LOCAL_WORLD_SIZE`` instead.

A requeued Slurm job (SIGUSR1 before the time limit) leaves ``requeue_<n>.ckpt`` in the work dir
(``SlurmRequeue``); a killed job leaves ``last.ckpt``. The newer one is resumed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Geometry:
    devices: int  # processes (GPUs) per node
    num_nodes: int
    launcher: str  # "slurm", "torchrun/submitit" or "single"

    @property
    def world_size(self) -> int:
        return self.devices * self.num_nodes


def launch_geometry(devices: int | str = "auto", num_nodes: int | None = None,
                    env: dict[str, str] | None = None) -> Geometry:
    """Processes per node and node count of this launch; explicit values must agree with it."""
    env = os.environ if env is None else env
    if "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        ntasks = int(env["SLURM_NTASKS"])
        per_node = env.get("SLURM_NTASKS_PER_NODE")
        if ntasks > 1 and (per_node is None or not per_node.isdigit()):
            raise RuntimeError(
                f"Slurm started {ntasks} tasks without a uniform --ntasks-per-node "
                f"(SLURM_NTASKS_PER_NODE={per_node!r}); launch DDP as "
                "`srun --nodes=N --ntasks-per-node=G --cpus-per-task=C ...`")
        found = Geometry(int(per_node) if per_node and per_node.isdigit() else 1,
                         int(env.get("SLURM_NNODES", "1")), "slurm")
    elif "LOCAL_WORLD_SIZE" in env and "WORLD_SIZE" in env:
        local, world = int(env["LOCAL_WORLD_SIZE"]), int(env["WORLD_SIZE"])
        found = Geometry(local, max(1, world // local), "torchrun/submitit")
    else:
        return Geometry(1 if devices == "auto" else int(devices), num_nodes or 1, "single")
    if devices != "auto" and int(devices) != found.devices:
        raise ValueError(f"--devices {devices} disagrees with the {found.launcher} launch "
                         f"({found.devices} processes per node); use --devices auto")
    if num_nodes is not None and num_nodes != found.num_nodes:
        raise ValueError(f"--num-nodes {num_nodes} disagrees with the {found.launcher} launch "
                         f"({found.num_nodes} nodes); omit --num-nodes")
    return found


def process_rank(env: dict[str, str] | None = None) -> int:
    """Global rank of this process before Lightning sets up (0 when not distributed)."""
    env = os.environ if env is None else env
    # The order Lightning uses; its own launcher sets only LOCAL_RANK in the processes it starts.
    for key in ("RANK", "LOCAL_RANK", "SLURM_PROCID"):
        if key in env:
            return int(env[key])
    return 0


def describe_process(geometry: Geometry) -> str:
    return (f"rank {process_rank()} of world size {geometry.world_size} "
            f"({geometry.num_nodes} node(s) x {geometry.devices} process(es), "
            f"launcher {geometry.launcher}) on host {socket.gethostname()} "
            f"node {os.environ.get('SLURMD_NODENAME', '-')}")


def resume_checkpoint(work_dir: Path) -> Path | None:
    """The newest resumable checkpoint in ``work_dir``: a requeue's or the last epoch's."""
    candidates = [*work_dir.glob("requeue_*.ckpt"), work_dir / "last.ckpt"]
    existing = [p for p in candidates if p.exists()]
    return max(existing, key=lambda p: p.stat().st_mtime_ns) if existing else None


class SlurmRequeue(Callback):
    """Checkpoint and requeue on SIGUSR1 (``--signal=SIGUSR1@90``), safely under DDP.

    Lightning's own handler saves the checkpoint inside the signal handler; under DDP that
    checkpoint is a collective which, entered while another rank is inside a gradient
    all-reduce, deadlocks the job (seen here with 4 gloo ranks). This handler only sets a flag;
    after each training batch the ranks agree on it (one tiny all-reduce), save
    ``requeue_<n>.ckpt`` together, and rank 0 runs ``scontrol requeue``. Slurm then stops the
    job and starts it again, and training resumes from the newest checkpoint (see
    ``resume_checkpoint``); until it is stopped the job waits rather than finishing early.
    Lightning's handler is switched off (``slurm_plugins``).
    """

    def __init__(self, work_dir: Path, signum: int = signal.SIGUSR1,
                 wait_for_stop: float = 600) -> None:
        self.work_dir = Path(work_dir)
        self.signum = signum
        self.wait_for_stop = wait_for_stop
        self.requested = False
        self.requeued = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        signal.signal(self.signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.requested = True

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if self.requeued or not trainer.strategy.reduce_boolean_decision(self.requested,
                                                                         all=False):
            return
        existing = list(self.work_dir.glob("requeue_*.ckpt"))
        path = self.work_dir / f"requeue_{len(existing) + 1}.ckpt"
        trainer.save_checkpoint(path)  # every rank takes part; rank 0 writes
        self.requeued = True
        requeued = None
        if trainer.is_global_zero:
            job = os.environ.get("SLURM_ARRAY_JOB_ID")
            job = (f"{job}_{os.environ['SLURM_ARRAY_TASK_ID']}" if job
                   else os.environ["SLURM_JOB_ID"])
            result = subprocess.run(["scontrol", "requeue", job], capture_output=True,
                                    text=True, check=False)
            requeued = result.returncode == 0
            if requeued:
                log.info("SIGUSR1: saved %s and requeued Slurm job %s", path.name, job)
            else:
                log.warning("SIGUSR1: saved %s, but `scontrol requeue %s` failed (%s); "
                            "training goes on", path.name, job, result.stderr.strip())
        if trainer.strategy.broadcast(requeued, src=0):
            # Slurm now stops every rank. Finishing instead would write outputs mid-training.
            time.sleep(self.wait_for_stop)
            raise RuntimeError(f"Slurm did not stop the job within {self.wait_for_stop} s "
                               "of `scontrol requeue`")


def slurm_plugins(geometry: Geometry) -> list:
    """Lightning plugins for a Slurm launch: its cluster environment without its requeue."""
    if geometry.launcher != "slurm":
        return []
    from lightning.fabric.plugins.environments import SLURMEnvironment

    return [SLURMEnvironment(auto_requeue=False)]
