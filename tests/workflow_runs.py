"""Helpers for tests that run the real Snakemake on a copy of the workflow in a temp folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs", "profiles")


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (rules, configs, envs, profiles) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = PROJECT_ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / name)
    return dest


def run_snakemake(workdir: Path, *args: str, check: bool = True,
                  env: dict[str, str] | None = None,
                  timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``snakemake`` (this interpreter's) in ``workdir``; output is captured for asserts."""
    env = {**os.environ, **(env or {})}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, text=True,
        capture_output=True, timeout=timeout, check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def jobs_planned(output: str) -> dict[str, int]:
    """Job counts from the 'Job stats' table of a dry run ({} when nothing is to be done)."""
    if "Job stats:" not in output:
        return {}
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


def slurm_profile_with(dest: Path, **variables) -> Path:
    """A copy of profiles/slurm with some of its ``__variables__`` (partition, sizes) changed."""
    import yaml

    profile = yaml.safe_load((PROJECT_ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    unknown = set(variables) - set(profile["__variables__"])
    if unknown:
        raise KeyError(f"profiles/slurm has no variables {sorted(unknown)}")
    profile["__variables__"].update(variables)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return dest
