"""The benchmark suite runs end to end (on the demo data, one repeat) and logs sane rows."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SUITE = Path(__file__).resolve().parents[2] / "bench" / "seed_scale.py"


def run_suite(*argv: str) -> None:
    proc = subprocess.run([sys.executable, str(SUITE), *argv, "--threads", "1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_benchmark_suite_runs_and_records_every_figure(tmp_path):
    data, results = tmp_path / "data", tmp_path / "results.jsonl"
    common = ("--scale", "demo", "--data", str(data), "--results", str(results),
              "--repeats", "1")
    run_suite("all", *common, "--pretrain-epochs", "2", "--joint-epochs", "2",
              "--screen-sets", "20000", "--chunk-size", "512")
    run_suite("pretrain-convergence", *common, "--convergence-seconds", "2")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    found = {(row["benchmark"], row["setup"]): row for row in rows}
    assert set(found) == {
        ("pretrain epoch, all genes x 6 networks (s)", "plain"),
        ("pretrain epoch, all genes x 6 networks (s)", "fast"),
        ("joint epoch over 91k triples (s)", "plain"),
        ("joint epoch over 91k triples (s)", "fast"),
        ("joint epoch over 91k triples (s)", "fast all genes"),
        ("screen throughput (triples/s)", "5,000 sets"),
        ("screen throughput (triples/s)", "20,000 sets"),
        ("screen throughput (triples/s)", "20,000 sets compiled"),
        ("pretrain loss vs training time (coexpression)", "batch 96 (workflow)"),
        ("pretrain loss vs training time (coexpression)", "batch 2048"),
        ("pretrain loss vs training time (coexpression)", "full batch"),
        ("pretrain loss vs training time (coexpression)", "full batch, lr 1e-2"),
    }
    for row in rows:
        assert row["median"] > 0 and row["peak_rss_mb"] > 0, row
        assert row["machine"]["scale"] == "demo" and row["machine"]["cores"] >= 1
    screen = found[("screen throughput (triples/s)", "20,000 sets")]
    assert screen["sets_total"] == math.comb(screen["genes"], 3)  # the screened genes' triples
    curve = found[("pretrain loss vs training time (coexpression)", "batch 96 (workflow)")]
    assert curve["curve"][-1][1] < curve["curve"][0][1]  # the loss goes down


def test_catran_benchmark_runs_and_records_both_figures(tmp_path):
    results = tmp_path / "results.jsonl"
    script = SUITE.with_name("catran_throughput.py")
    proc = subprocess.run([sys.executable, str(script), "--scale", "demo", "--data",
                           str(tmp_path / "data"), "--results", str(results), "--repeats", "1",
                           "--steps", "2", "--edges", "100", "--threads", "1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {row["benchmark"]: row for row in map(json.loads, results.read_text().splitlines())}
    training = rows["CaTran training throughput (cells/s)"]
    evaluation = rows["CausalBench evaluation of 100 edges (s)"]
    assert training["median"] > 0 and training["genes"] == 40 and training["peak_rss_mb"] > 0
    assert evaluation["median"] > 0 and evaluation["edges"] == 100
    assert 0 <= evaluation["precision"] <= 1


def test_grape_benchmark_runs_and_records_its_step(tmp_path):
    results = tmp_path / "results.jsonl"
    script = SUITE.with_name("grape_step.py")
    proc = subprocess.run([sys.executable, str(script), "--genes", "60", "--perturbations", "2",
                           "--steps", "1", "--neighbours", "5", "--repeats", "1", "--threads",
                           "1", "--results", str(results)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads(results.read_text().splitlines()[-1])
    assert row["benchmark"] == "GRAPE training step (s)" and row["median"] > 0
    assert row["genes"] == 60 and row["learned_edges"] == 60 * 5 and row["peak_rss_mb"] > 0
