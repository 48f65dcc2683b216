"""Collect every sweep point × seed into ``summary.tsv``, with plots.

Sweep values are read back from the result paths (``…/eval/model~<m>/split~<s>/<key>~<value>/…
/seed<k>/``, see :mod:`geneint.sweep`), so the table needs no other bookkeeping. Models have
different axes; an axis a model does not have is left empty in its rows.

Plots: ``metrics.png`` (test metrics per point), ``models.png`` (models side by side: test
Pearson and MSE, mean ± sd over seeds with every seed as a dot; an undefined Pearson — the mean
baseline's — is written as such, not drawn as 0) and ``training_curves.png`` (neural models).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on clusters or CI
import matplotlib.pyplot as plt
import pandas as pd

from geneint.data.files import PathLike, atomic_output

log = logging.getLogger(__name__)

_PARAM = re.compile(r"^(?P<key>[A-Za-z_]+)~(?P<value>.+)$")
_SEED = re.compile(r"^seed(?P<seed>\d+)$")
ROLES = ("test", "val", "train")
#: Leading columns of the tables, when present.
FIRST_KEYS = ("model", "split")


def point_of(path: PathLike) -> dict[str, str]:
    """Sweep values and seed encoded in a result path."""
    point: dict[str, str] = {}
    for part in Path(path).parts:
        if match := _PARAM.match(part):
            point[match["key"]] = match["value"]
        elif match := _SEED.match(part):
            point["seed"] = match["seed"]
    if "seed" not in point:
        raise ValueError(f"{path}: no seed<k> folder in the path")
    return point


def summary_table(metric_files: list[PathLike]) -> pd.DataFrame:
    """One row per metrics.json: sweep values, seed, and ``<role>_<metric>`` columns."""
    rows = []
    for path in metric_files:
        metrics = json.loads(Path(path).read_text())
        row: dict = dict(point_of(path))
        for role in ROLES:
            for key, value in metrics.get(role, {}).items():
                row[f"{role}_{key}"] = value
            for arity, block in metrics.get("by_arity", {}).get(role, {}).items():
                for key, value in block.items():
                    row[f"{role}_arity{arity}_{key}"] = value
        rows.append(row)
    if not rows:
        raise ValueError("no metrics files to aggregate")
    table = pd.DataFrame(rows)
    keys = [c for c in table.columns if not c.startswith(ROLES) and c != "seed"]
    table[keys] = table[keys].fillna("")
    first = [k for k in FIRST_KEYS if k in table] + [k for k in keys if k not in FIRST_KEYS]
    return table[first + [c for c in table.columns if c not in first]]


def by_point(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds of every metric, one row per sweep point."""
    keys = [c for c in summary.columns if not c.startswith(ROLES) and c != "seed"]
    metrics = [c for c in summary.columns if c.startswith(ROLES)
               and pd.api.types.is_numeric_dtype(summary[c])]
    grouped = summary.groupby(keys, sort=False, dropna=False)[metrics]
    table = grouped.mean().add_suffix("_mean").join(grouped.std().add_suffix("_sd"))
    table.insert(0, "seeds", summary.groupby(keys, sort=False, dropna=False).size())
    return table.reset_index()


def point_label(row: pd.Series, keys: list[str]) -> str:
    return " ".join(f"{k}={row[k]}" for k in keys if row[k] != "")


def plot_metrics(points: pd.DataFrame, keys: list[str], path: PathLike) -> None:
    varying = [k for k in keys if points[k].nunique() > 1] or keys[:1]
    labels = [point_label(r, varying) for _, r in points.iterrows()]
    names = [m for m in ("pearson", "spearman", "auroc") if f"test_{m}_mean" in points]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 0.5 * len(labels) + 2.5),
                             squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        ax.barh(labels, points[f"test_{name}_mean"], xerr=points[f"test_{name}_sd"].fillna(0),
                color="tab:blue", alpha=0.8, capsize=3)
        if name == "pearson" and "test_oracle_pearson_mean" in points:
            ax.axvline(points["test_oracle_pearson_mean"].mean(), ls="--", c="k",
                       label="oracle")
            ax.legend(loc="lower right")
        ax.set_xlabel(f"test {name} (mean ± sd over seeds)")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def model_labels(points: pd.DataFrame, keys: list[str]) -> list[str]:
    """A point's model, plus the axes that differ between that model's points."""
    labels = []
    for _, row in points.iterrows():
        same_model = points[points["model"] == row["model"]]
        varying = [k for k in keys if k != "model" and same_model[k].nunique() > 1]
        labels.append(" ".join([row["model"], *(f"{k}={row[k]}" for k in varying)]))
    return labels


def plot_models(summary: pd.DataFrame, points: pd.DataFrame, keys: list[str],
                path: PathLike) -> None:
    """Models side by side: test Pearson and test MSE per point, mean ± sd over seeds (bars),
    each seed a dot; a point whose Pearson is undefined says so instead of showing a bar."""
    points = points.reset_index(drop=True)
    labels = model_labels(points, keys)
    colours = {m: plt.cm.tab10(i % 10) for i, m in enumerate(dict.fromkeys(points["model"]))}
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(points) + 2.2), squeeze=False,
                             sharey=True)
    y = list(range(len(points)))
    for ax, name in zip(axes[0], ("pearson", "mse"), strict=True):
        mean, sd = points[f"test_{name}_mean"], points[f"test_{name}_sd"].fillna(0)
        ax.barh(y, mean.fillna(0), xerr=sd, color=[colours[m] for m in points["model"]],
                alpha=0.75, capsize=3)
        for i, row in points.iterrows():
            seeds = summary
            for key in keys:
                seeds = seeds[seeds[key].astype(str) == str(row[key])]
            values = pd.to_numeric(seeds[f"test_{name}"], errors="coerce").dropna()
            ax.plot(values, [i] * len(values), "k.", ms=4)
            if pd.isna(mean.iat[i]):
                ax.text(0, i, "  undefined (constant prediction)", va="center", fontsize=8)
        ax.axvline(0, c="grey", lw=0.8)
        if name == "pearson" and "test_oracle_pearson_mean" in points:
            ax.axvline(points["test_oracle_pearson_mean"].mean(), ls="--", c="k",
                       label="oracle (noise ceiling)")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel(f"test {'Pearson' if name == 'pearson' else 'MSE'}")
    axes[0][0].set_yticks(y, labels, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle("Models on the same test sets: mean ± sd over seeds, dots are seeds",
                 fontsize=10)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def plot_curves(curve_files: list[PathLike], path: PathLike) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for curve_path in curve_files:
        curve = pd.read_csv(curve_path)
        if "val/pearson" not in curve:
            continue
        val = curve[["epoch", "val/pearson"]].dropna()
        point = point_of(curve_path)
        label = " ".join(f"{k}={v}" for k, v in point.items())
        ax.plot(val["epoch"], val["val/pearson"], lw=1.2, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation Pearson")
    if len(curve_files) <= 8:
        ax.legend(fontsize=6)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def aggregate(metric_files: list[PathLike], curve_files: list[PathLike],
              results: PathLike) -> pd.DataFrame:
    """Write ``summary.tsv``, ``summary_by_point.tsv`` and ``plots/`` under ``results``."""
    results = Path(results)
    summary = summary_table(metric_files)
    points = by_point(summary)
    with atomic_output(results / "summary.tsv") as tmp:
        summary.to_csv(tmp, sep="\t", index=False)
    with atomic_output(results / "summary_by_point.tsv") as tmp:
        points.to_csv(tmp, sep="\t", index=False)
    keys = [c for c in points.columns if c != "seeds" and not c.startswith(ROLES)]
    (results / "plots").mkdir(parents=True, exist_ok=True)
    plot_metrics(points, keys, results / "plots" / "metrics.png")
    plot_models(summary, points, keys, results / "plots" / "models.png")
    plot_curves(curve_files, results / "plots" / "training_curves.png")
    log.info("%d runs over %d sweep points -> %s", len(summary), len(points), results)
    return summary
