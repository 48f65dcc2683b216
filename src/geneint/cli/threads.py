"""CPU threads of a stage: the count the rule's ``threads`` gave it, on cores it may share."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def prefer_sleeping_threads() -> None:
    """Make torch's OpenMP threads sleep, not spin, while they wait (unless the user chose).

    Must run before torch is imported. Spinning threads of two jobs on the same cores take each
    other's time slices: on 2 cores, two demo trainings side by side each ran many times slower
    than alone (docs/benchmarks.md, "Shared cores"). Sleeping costs a job running alone little.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask: Slurm's and taskset's limits)."""
    return len(os.sched_getaffinity(0))


def use_threads(threads: int) -> int:
    """Give torch ``threads`` intra-op threads and say so in the job's log."""
    import torch

    torch.set_num_threads(threads)
    cpus = available_cpus()
    log.info("threads: %d (CPUs this process may use: %d; OMP_WAIT_POLICY=%s)",
             torch.get_num_threads(), cpus, os.environ.get("OMP_WAIT_POLICY", "unset"))
    if threads > cpus:
        log.warning("%d threads on %d CPUs: the threads will wait for each other; give the "
                    "job more CPUs or fewer threads", threads, cpus)
    return torch.get_num_threads()
