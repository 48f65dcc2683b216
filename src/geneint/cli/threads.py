"""CPU threads of a stage: the count the rule's ``threads`` gave it, on cores it may share."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def prefer_sleeping_threads() -> None:
    """Let torch's OpenMP threads spin only briefly before they sleep (unless the user chose).

    Must run before torch is imported. By default a waiting OpenMP thread spins ~300,000 times
    (a few ms): two jobs on the same cores then take each other's time slices at every barrier
    — on 2 cores, two demo trainings side by side took 8x as long as one alone. Sleeping at once
    (``OMP_WAIT_POLICY=PASSIVE``) fixes that but slows a job alone by ~40 % on small tensors;
    spinning 1,000 times first keeps a job alone as fast as before and two side by side at
    ~1.5x (docs/benchmarks.md, "Shared cores"). ``OMP_WAIT_POLICY=ACTIVE`` in the environment
    keeps full spinning where a job has its cores to itself.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        os.environ["GOMP_SPINCOUNT"] = "1000"


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask: Slurm's and taskset's limits)."""
    return len(os.sched_getaffinity(0))


def use_threads(threads: int) -> int:
    """Give torch ``threads`` intra-op threads and say so in the job's log."""
    import torch

    torch.set_num_threads(threads)
    cpus = available_cpus()
    log.info("threads: %d (CPUs this process may use: %d; OMP_WAIT_POLICY=%s,"
             " GOMP_SPINCOUNT=%s)", torch.get_num_threads(), cpus,
             os.environ.get("OMP_WAIT_POLICY", "unset"), os.environ.get("GOMP_SPINCOUNT", "unset"))
    if threads > cpus:
        log.warning("%d threads on %d CPUs: the threads will wait for each other; give the "
                    "job more CPUs or fewer threads", threads, cpus)
    return torch.get_num_threads()
