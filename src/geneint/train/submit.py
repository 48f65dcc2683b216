"""Launch ``geneint train`` with submitit, outside Snakemake (ad-hoc and interactive runs).

``geneint submit --cluster slurm --nodes 2 --tasks-per-node 4 --gpus-per-node 4 -- <train args>``
submits one sbatch job whose ``srun`` starts one task per GPU; ``--cluster local`` starts the
tasks as local processes (DDP over gloo on CPU), ``--cluster debug`` runs in this process.
Inside the job, Lightning takes the geometry from Slurm, or from the torch.distributed variables
exported here for the local executor (see ``geneint.train.cluster``).

On a Slurm time-out or preemption submitit calls :meth:`TrainingTask.checkpoint` and requeues the
same task; it resumes from the newest checkpoint in its work dir. Requeueing is submitit's job
here (signal USR2); Lightning's own SLURM requeue answers USR1 only, so the two never both act.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class TrainingTask:
    """A picklable ``geneint train`` call that submitit runs once per task."""

    train_args: list[str]

    def __call__(self) -> dict[str, Any]:
        import submitit

        from geneint.cli import main

        if "SLURM_NTASKS" not in os.environ:  # local executor: no srun variables to read
            submitit.helpers.TorchDistributedEnvironment().export(
                set_cuda_visible_devices=False, overwrite=True)
        if main(["train", *self.train_args]) != 0:
            raise RuntimeError("geneint train failed; its error is in this task's log above")
        out = Path(self.train_args[self.train_args.index("--out") + 1])
        summary = out / "train_summary.json"
        if summary.exists():  # written by rank 0
            return json.loads(summary.read_text())
        return {}

    def checkpoint(self, *args: Any, **kwargs: Any):
        """Requeue the same call: training resumes from its work dir's newest checkpoint."""
        import submitit

        return submitit.helpers.DelayedSubmission(TrainingTask(self.train_args))


def submit_training(train_args: list[str], cluster: str = "slurm", folder: str = "logs/submitit",
                    nodes: int = 1, tasks_per_node: int = 1, gpus_per_node: int = 0,
                    cpus_per_task: int = 1, mem_gb: float | None = None,
                    timeout_min: int = 60, partition: str | None = None,
                    account: str | None = None, slurm_extra: dict[str, str] | None = None):
    """Submit one training job; returns the submitit job (``job.results()`` waits)."""
    import submitit

    if "--out" not in train_args:
        raise ValueError("train arguments need --out (where the model is written)")
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    params: dict[str, Any] = {"nodes": nodes, "tasks_per_node": tasks_per_node,
                              "cpus_per_task": cpus_per_task, "timeout_min": timeout_min,
                              "name": "geneint-train"}
    if gpus_per_node:
        params["gpus_per_node"] = gpus_per_node
    if mem_gb is not None:
        params["mem_gb"] = mem_gb
    if executor.cluster == "slurm":
        params.update(slurm_partition=partition, slurm_account=account,
                      slurm_additional_parameters=slurm_extra or {})
        params = {k: v for k, v in params.items() if v is not None}
    executor.update_parameters(**params)
    job = executor.submit(TrainingTask(list(train_args)))
    log.info("submitted %s job %s (%d node(s) x %d task(s)); logs in %s", executor.cluster,
             job.job_id, nodes, tasks_per_node, folder)
    return job
