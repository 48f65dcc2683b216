"""The Slurm test rig (tests/slurm/rig.py) as a session fixture."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from rig import SlurmRig, missing_binaries


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """slurmctld + two slurmd (n1, n2) on loopback; stopped by pid afterwards.

    Skipped where Slurm cannot run (not installed, not root) — except in CI, where that is an
    error: CI installs slurm-wlm and munge and must run these tests.
    """
    problem = None
    if missing_binaries():
        problem = (f"Slurm not installed (missing {missing_binaries()}): "
                   "apt-get install slurm-wlm munge")
    elif os.geteuid() != 0:
        problem = "the Slurm rig needs root (it writes /etc/slurm/slurm.conf)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    rig = SlurmRig(tmp_path_factory.mktemp("slurm_state")).start()
    yield rig
    rig.stop()
