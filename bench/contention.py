"""Shared cores: one demo training job alone against two side by side on the same cores.

    python bench/contention.py [--repeats 3] [--epochs 10] [--project .]

Both are real workflow jobs: the demo is run once through Snakemake (with ``--epochs`` of joint
training), copied twice, and the DANGO training job is rerun with ``--forcerun train_model`` —
alone in one copy, then in both copies at once (two Snakemake processes, each with
``--cores 2``, as when two users or two studies share a machine). Wall and CPU seconds come
from the job's Snakemake benchmark file. ``--project`` runs another checkout of geneint (its
workflow and its ``src``), e.g. a commit from before a fix. The rows are printed and appended
to ``bench/results.jsonl``; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs", "profiles")
SWEEP = "grid:\n  model: [dango]\n  split: [random0]\nseeds: [0]\n"


def snakemake(root: Path, project: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(project / "src"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen([sys.executable, "-m", "snakemake", *args, "--cores", "2"],
                            cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed:\n{err[-3000:]}")


def prepare(work: Path, project: Path, epochs: int) -> Path:
    demo = work / "a"
    demo.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        source = project / name
        if source.exists():
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, demo / name)
    (demo / "bench_sweep.yaml").write_text(SWEEP)
    (demo / "bench.yaml").write_text(
        f"sweep: bench_sweep.yaml\ntrain: {{epochs: {epochs}, patience: 1000}}\n")
    finish(snakemake(demo, project, "--configfile", "bench.yaml"))
    shutil.copytree(demo, work / "b", symlinks=True)
    return demo


def training_job(root: Path) -> tuple[str, Path]:
    """(predictions target, benchmark file) of the one DANGO training job."""
    predictions = next((root / "results" / "demo" / "train").rglob("predictions.parquet"))
    target = str(predictions.relative_to(root))
    point = target.removeprefix("results/demo/train/").removesuffix("/predictions.parquet")
    return target, root / "benchmarks" / "demo" / "train" / f"{point}.tsv"


def rerun_training(roots: list[Path], project: Path) -> list[dict]:
    """Retrain in every root at once; wall and CPU seconds of each job."""
    jobs = [training_job(root) for root in roots]
    # The target goes first: --configfile and --forcerun take several values.
    procs = [snakemake(root, project, target, "--configfile", "bench.yaml", "--forcerun",
                       "train_model") for root, (target, _) in zip(roots, jobs)]
    for proc in procs:
        finish(proc)
    rows = []
    for _, bench in jobs:
        record = pd.read_csv(bench, sep="\t").iloc[-1]
        rows.append({"wall_s": float(record["s"]), "cpu_s": float(record["cpu_time"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", default=str(HERE.parent),
                        help="geneint checkout whose workflow and src are measured")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--label", default="", help="free text stored with the rows")
    parser.add_argument("--results", default=str(HERE / "results.jsonl"))
    args = parser.parse_args()
    project = Path(args.project).resolve()
    with tempfile.TemporaryDirectory(prefix="geneint-contention-") as tmp:
        a = prepare(Path(tmp), project, args.epochs)
        b = Path(tmp) / "b"
        solo, pair = [], []
        for _ in range(args.repeats):
            solo.append(rerun_training([a], project)[0])
            pair.append(rerun_training([a, b], project))
    solo_wall = statistics.median(r["wall_s"] for r in solo)
    pair_wall = statistics.median(max(r["wall_s"] for r in runs) for runs in pair)
    row = {
        "bench": "contention", "label": args.label, "epochs": args.epochs,
        "date": time.strftime("%Y-%m-%d"), "project": str(project),
        "solo_wall_s": [r["wall_s"] for r in solo], "solo_cpu_s": [r["cpu_s"] for r in solo],
        "pair_wall_s": [[r["wall_s"] for r in runs] for runs in pair],
        "pair_cpu_s": [[r["cpu_s"] for r in runs] for runs in pair],
        "solo_median_s": solo_wall, "pair_slowest_median_s": pair_wall,
        "slowdown": pair_wall / solo_wall,
    }
    print(f"one job alone: {solo_wall:.1f} s (median of {args.repeats}); two side by side:"
          f" {pair_wall:.1f} s for the slower (median); slowdown {row['slowdown']:.2f}x"
          " (2x = fair sharing of the cores)")
    with open(args.results, "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
