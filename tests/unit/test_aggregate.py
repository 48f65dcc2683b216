"""Aggregation over models with different axes: one table, model first, undefined metrics kept
undefined, per-arity columns, data-only columns written once, and plots whose labels say what
they show (seed count, oracle per test set, undefined points, losses in the curves)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib.figure
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from geneint.report.aggregate import aggregate
from geneint.report.plots import model_labels

REPO = Path(__file__).resolve().parents[2]
DANGO = "model~dango/split~random0/graphs~string9.1/dim~{dim}"


def write_metrics(root: Path, point: str, seed: int, pearson: float | None, mse: float,
                  by_arity: bool = False, **extra) -> Path:
    path = root / "eval" / point / f"seed{seed}" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    block = {"n": 10, "pearson": pearson, "mse": mse, **extra}
    metrics = {"test": block, "val": block}
    if by_arity:
        metrics["by_arity"] = {"test": {"2": {**block, "n": 4}, "3": {**block, "n": 6}}}
    path.write_text(json.dumps(metrics))
    return path


def write_curve(root: Path, point: str, seed: int, epochs: int = 4,
                val_pearson: list[float] | None = None) -> Path:
    """A Lightning-style metrics.csv: each epoch spans a learning-rate, a validation and a
    training row, each filling only its own columns."""
    rows = []
    for epoch in range(epochs):
        rows.append({"lr-AdamW": 0.003, "step": 10 * epoch})
        pearson = val_pearson[epoch] if val_pearson else 0.2 + 0.1 * epoch + 0.01 * seed
        rows.append({"epoch": epoch, "step": 10 * epoch + 9, "val/mse": 0.003 - 1e-4 * epoch,
                     "val/n": 100.0, "val/pearson": pearson})
        rows.append({"epoch": epoch, "step": 10 * epoch + 9, "train/alpha": 1.0 - 0.1 * epoch,
                     "train/interaction": 0.3 - 0.02 * epoch, "train/loss": 0.1 - 0.01 * epoch,
                     "train/reconstruction": 0.006})
    path = root / "train" / point / f"seed{seed}" / "metrics.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
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


@pytest.fixture()
def figures(monkeypatch):
    """Every figure ``aggregate`` saves, by file name (``metrics.png`` …), for inspection."""
    saved: dict[str, matplotlib.figure.Figure] = {}
    original = matplotlib.figure.Figure.savefig

    def savefig(fig, fname, *args, **kwargs):
        # atomic_output writes ".<name>.<random>.tmp" beside the final file.
        name = re.match(r"^\.?(.+?\.png)", Path(fname).name)[1]
        saved[name] = fig
        return original(fig, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return saved


def panel(fig, word: str):
    """The one axes of ``fig`` whose x or y label mentions ``word`` (case-insensitive)."""
    found = [ax for ax in fig.axes
             if word.lower() in (ax.get_xlabel() + " " + ax.get_ylabel()).lower()]
    assert len(found) == 1, [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]
    return found[0]


def dashed_x(ax) -> set[float]:
    """x positions of the dashed (reference) lines of ``ax``."""
    return {round(float(line.get_xdata()[0]), 6) for line in ax.lines
            if line.get_linestyle() == "--"}


def has_error_bars(ax) -> bool:
    return any(isinstance(c, ErrorbarContainer) for c in ax.containers)


def by_point_table(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "out" / "summary_by_point.tsv", sep="\t")


def test_one_table_for_models_with_different_axes(results):
    root, files = results
    summary = aggregate(files, [], root / "out")
    assert list(summary.columns[:2]) == ["model", "split"]
    assert len(summary) == 7
    mean = summary[summary["model"] == "mean"]
    assert mean["test_pearson"].isna().all() and (mean["dim"] == "").all()
    assert "test_arity2_pearson" in summary and "test_arity3_n" in summary
    by_point = by_point_table(root)
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


def test_data_columns_are_written_once_and_metrics_get_mean_and_sd(tmp_path):
    files = [write_metrics(tmp_path, DANGO.format(dim=32), seed, 0.5 + 0.01 * seed, 0.01,
                           by_arity=True, n_strong=3, strong_fraction=0.3, strong_threshold=0.05,
                           oracle_pearson=0.8, oracle_spearman=0.4)
             for seed in (0, 1, 2)]
    aggregate(files, [], tmp_path / "out")
    by_point = by_point_table(tmp_path)
    for role in ("test", "val", "test_arity2", "test_arity3"):
        for name in ("n", "n_strong", "strong_fraction", "strong_threshold", "oracle_pearson",
                     "oracle_spearman"):
            assert f"{role}_{name}" in by_point, (role, name)
            assert f"{role}_{name}_mean" not in by_point and f"{role}_{name}_sd" not in by_point
        for name in ("pearson", "mse"):
            assert {f"{role}_{name}_mean", f"{role}_{name}_sd"} <= set(by_point.columns)
            assert f"{role}_{name}" not in by_point
    row = by_point.iloc[0]
    assert row["test_n"] == 10 and row["test_arity2_n"] == 4 and row["test_oracle_pearson"] == 0.8
    assert row["test_pearson_mean"] == pytest.approx(0.51) and row["test_pearson_sd"] > 0
    # Counts stay counts, and each metric's sd sits next to its mean.
    text = (tmp_path / "out" / "summary_by_point.tsv").read_text()
    assert "10.0" not in text
    columns = list(by_point.columns)
    assert columns.index("test_pearson_sd") == columns.index("test_pearson_mean") + 1


def test_a_data_column_that_differs_between_seeds_is_averaged_not_hidden(tmp_path):
    files = [write_metrics(tmp_path, "model~additive/split~random0", seed, 0.3, 0.02,
                           oracle_pearson=0.8 + 0.01 * seed) for seed in (0, 1)]
    aggregate(files, [], tmp_path / "out")
    by_point = by_point_table(tmp_path)
    assert "test_oracle_pearson" not in by_point
    assert by_point.loc[0, "test_oracle_pearson_mean"] == pytest.approx(0.805)
    assert by_point.loc[0, "test_n"] == 10


def test_a_metric_empty_in_every_row_is_kept_and_plotted(tmp_path, figures):
    files = [write_metrics(tmp_path, "model~mean/split~random0", seed, None, 0.03)
             for seed in (0, 1)]
    aggregate(files, [], tmp_path / "out")
    by_point = by_point_table(tmp_path)
    assert "test_pearson_mean" in by_point and by_point["test_pearson_mean"].isna().all()
    assert "test_pearson_sd" in by_point
    texts = [t.get_text() for t in panel(figures["models.png"], "Pearson").texts]
    assert any("undefined" in t for t in texts)


@pytest.mark.parametrize("seeds", [1, 3])
def test_labels_and_error_bars_match_the_number_of_seeds(tmp_path, figures, seeds):
    files = [write_metrics(tmp_path, DANGO.format(dim=dim), seed, 0.5 + 0.01 * seed, 0.01)
             for dim in (32, 64) for seed in range(seeds)]
    aggregate(files, [], tmp_path / "out")
    metrics_ax = panel(figures["metrics.png"], "Pearson")
    models_fig = figures["models.png"]
    title = models_fig._suptitle.get_text()
    if seeds == 1:
        assert "1 seed" in metrics_ax.get_xlabel() and "1 seed" in title
        assert "sd" not in metrics_ax.get_xlabel() and "sd" not in title
        assert not has_error_bars(metrics_ax)
        assert not any(has_error_bars(ax) for ax in models_fig.axes)
    else:
        assert "mean ± sd over 3 seeds" in metrics_ax.get_xlabel()
        assert "mean ± sd over 3 seeds" in title
        assert has_error_bars(metrics_ax)


def test_seed_counts_that_differ_between_points_are_named_per_point(tmp_path, figures):
    files = [write_metrics(tmp_path, DANGO.format(dim=32), seed, 0.5 + 0.01 * seed, 0.01)
             for seed in range(3)]
    files += [write_metrics(tmp_path, "model~additive/split~random0", 0, 0.3, 0.02)]
    aggregate(files, [], tmp_path / "out")
    ax = panel(figures["metrics.png"], "Pearson")
    assert "1–3 seeds" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any("(3 seeds)" in t for t in labels) and any("(1 seed)" in t for t in labels)


def test_oracle_is_drawn_per_test_set_not_averaged_over_splits(tmp_path, figures):
    files = [write_metrics(tmp_path, f"model~additive/split~{split}", 0, 0.3, 0.02,
                           oracle_pearson=oracle)
             for split, oracle in (("random0", 0.8), ("random1", 0.9))]
    aggregate(files, [], tmp_path / "out")
    for name in ("metrics.png", "models.png"):
        assert dashed_x(panel(figures[name], "Pearson")) == {0.8, 0.9}, name


def test_one_oracle_line_when_every_point_shares_the_test_set(results, figures):
    root, _ = results
    files = [write_metrics(root, f"model~{model}/split~random0", 0, pearson, 0.02,
                           oracle_pearson=0.8) for model, pearson in (("additive", 0.3),
                                                                       ("mean", None))]
    aggregate(files, [], root / "out")
    ax = panel(figures["models.png"], "Pearson")
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed_x(ax) == {0.8}


def test_undefined_metrics_are_marked_in_the_metrics_plot(results, figures):
    root, files = results
    aggregate(files, [], root / "out")
    ax = panel(figures["metrics.png"], "Pearson")
    undefined = [t for t in ax.texts if "undefined" in t.get_text()]
    assert len(undefined) == 1  # the mean baseline's row only


def test_training_curves_show_losses_beside_validation_pearson(tmp_path, figures):
    metrics = [write_metrics(tmp_path, DANGO.format(dim=32), 0, 0.5, 0.01)]
    curves = [write_curve(tmp_path, DANGO.format(dim=dim), seed,
                          val_pearson=[0.1, math.nan, float("inf"), 0.4] if dim == 64 else None)
              for dim in (32, 64) for seed in (0, 1)]
    aggregate(metrics, curves, tmp_path / "out")
    fig = figures["training_curves.png"]
    for word in ("training loss (optimised)", "interaction part", "validation loss",
                 "validation Pearson"):
        ax = panel(fig, word)
        assert len(ax.lines) == 4, word
        for line in ax.lines:
            assert all(math.isfinite(y) for y in line.get_ydata()), word
    pearson = panel(fig, "validation Pearson")
    assert sorted(len(line.get_xdata()) for line in pearson.lines) == [2, 2, 4, 4]
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert sorted(labels) == ["dim=32 seed=0", "dim=32 seed=1", "dim=64 seed=0", "dim=64 seed=1"]


def test_training_curve_legend_stays_readable_over_many_curves(tmp_path, figures):
    metrics = [write_metrics(tmp_path, DANGO.format(dim=32), 0, 0.5, 0.01)]
    curves = [write_curve(tmp_path, DANGO.format(dim=dim), seed)
              for dim in (16, 32, 64) for seed in (0, 1, 2)]
    aggregate(metrics, curves, tmp_path / "out")
    fig = figures["training_curves.png"]
    assert len(panel(fig, "validation Pearson").lines) == 9
    assert all(not ax.get_legend() for ax in fig.axes)  # no legend drawn over the curves
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 9
    assert "9 curves" in fig._suptitle.get_text()


def test_captions_describe_each_table_and_the_baseline():
    report = REPO / "workflow" / "report"
    rule = (REPO / "workflow" / "rules" / "aggregate.smk").read_text()
    captions = dict(re.findall(r'f"results/\{RUN\}/([\w/.]+)",\s*category="\w+",\s*'
                               r'caption="\.\./report/([\w.]+)"', rule))
    assert captions["summary.tsv"] == "summary.rst"
    assert captions["summary_by_point.tsv"] == "summary_by_point.rst"
    summary = (report / "summary.rst").read_text()
    by_point = (report / "summary_by_point.rst").read_text()
    for text in (summary, by_point):
        assert "docs/outputs.md" in text
    assert "seed" in summary and "train" in summary and "val" in summary
    assert "_mean" in by_point and "_sd" in by_point and "oracle_pearson" in by_point
    assert "floor" not in (report / "models.rst").read_text()
    curves = (report / "curves.rst").read_text()
    assert "loss" in curves and "MSE" in curves
