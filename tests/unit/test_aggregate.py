"""Aggregation over models with different axes: one table, model first, undefined metrics kept
undefined, per-arity columns, and the model comparison plot."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geneint.report.aggregate import aggregate, model_labels

DANGO = "model~dango/split~random0/graphs~v9.1/dim~{dim}"


def write_metrics(root: Path, point: str, seed: int, pearson: float | None, mse: float,
                  by_arity: bool = False) -> Path:
    path = root / "eval" / point / f"seed{seed}" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    block = {"n": 10, "pearson": pearson, "mse": mse}
    metrics = {"test": block, "val": block}
    if by_arity:
        metrics["by_arity"] = {"test": {"2": {**block, "n": 4}, "3": {**block, "n": 6}}}
    path.write_text(json.dumps(metrics))
    return path


@pytest.fixture()
def results(tmp_path):
    files = [write_metrics(tmp_path, DANGO.format(dim=dim), seed, 0.5 + 0.01 * seed + dim / 1e3,
                           0.01, by_arity=True)
             for dim in (32, 64) for seed in (0, 1)]
    files += [write_metrics(tmp_path, "model~mean/split~random0", seed, None, 0.03)
              for seed in (0, 1)]
    files += [write_metrics(tmp_path, "model~additive/split~random0", 0, 0.3, 0.02)]
    return tmp_path, files


def test_one_table_for_models_with_different_axes(results):
    root, files = results
    summary = aggregate(files, [], root / "out")
    assert list(summary.columns[:2]) == ["model", "split"]
    assert len(summary) == 7
    mean = summary[summary["model"] == "mean"]
    assert mean["test_pearson"].isna().all() and (mean["dim"] == "").all()
    assert "test_arity2_pearson" in summary and "test_arity3_n" in summary
    by_point = pd.read_csv(root / "out" / "summary_by_point.tsv", sep="\t")
    assert len(by_point) == 4 and list(by_point.columns[:5]) == ["model", "split", "graphs",
                                                                 "dim", "seeds"]
    assert by_point.set_index("model").loc["mean", "seeds"] == 2
    assert pd.isna(by_point.set_index("model").loc["mean", "test_pearson_mean"])
    for plot in ("metrics.png", "models.png", "training_curves.png"):
        assert (root / "out" / "plots" / plot).stat().st_size > 1000


def test_labels_name_the_model_and_what_varies_within_it():
    points = pd.DataFrame({"model": ["dango", "dango", "additive"], "split": ["random0"] * 3,
                           "dim": ["32", "64", ""]})
    assert model_labels(points, ["model", "split", "dim"]) == ["dango dim=32", "dango dim=64",
                                                               "additive"]
