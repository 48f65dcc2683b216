"""Workflow tests run the real Snakemake on a copy of the workflow inside a temp folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs", "profiles")


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``snakemake`` (this interpreter's) in ``workdir``; output is captured for asserts."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, text=True,
        capture_output=True,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture()
def workflow_copy(tmp_path: Path) -> Path:
    """A fresh copy of the workflow (rules, configs, envs, profiles) to run in isolation."""
    for name in WORKFLOW_FILES:
        src = PROJECT_ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy2(src, tmp_path / name)
    return tmp_path


@pytest.fixture()
def snakemake():
    """``snakemake(workdir, *args, check=True)``: run the real Snakemake CLI."""
    return run_snakemake
