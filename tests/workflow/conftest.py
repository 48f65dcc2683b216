"""Workflow tests run the real Snakemake on a copy of the workflow inside a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_runs import copy_workflow, run_snakemake


@pytest.fixture()
def workflow_copy(tmp_path: Path) -> Path:
    """A fresh copy of the workflow (rules, configs, envs, profiles) to run in isolation."""
    return copy_workflow(tmp_path)


@pytest.fixture()
def snakemake():
    """``snakemake(workdir, *args, check=True)``: run the real Snakemake CLI."""
    return run_snakemake
