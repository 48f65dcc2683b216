"""The plots of ``geneint aggregate``: ``metrics.png``, ``models.png`` and
``training_curves.png``.

Labels say what is drawn: "1 seed" when a point has one seed (no error bars then), "mean ± sd
over k seeds" otherwise. A metric that is undefined for a point (the mean baseline's Pearson)
is written "undefined" at its row, never drawn as 0 or left out silently. The oracle (noise
ceiling) is one dashed line when every point has the same value — the same test set — and a
dashed tick on each point's own row otherwise (several splits, i.e. several test sets).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on clusters or CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from geneint.data.files import PathLike, atomic_output
from geneint.report.tables import point_of, value_column

#: Test metrics of ``metrics.png``: (metric, axis name, reference line).
METRIC_PANELS = (("pearson", "Pearson", "oracle_pearson"),
                 ("spearman", "Spearman", "oracle_spearman"),
                 ("auroc", "AUROC", None))
#: Panels of ``training_curves.png``: (metrics.csv column, y label).
CURVE_PANELS = (
    ("train/loss", "training loss (optimised):\nα·reconstruction + (1−α)·interaction"),
    ("train/interaction", "training loss, interaction part:\nlog-cosh on standardised τ"),
    ("val/mse", "validation loss:\nMSE, published τ scale (τ²)"),
    ("val/pearson", "validation Pearson"),
)
#: Above this many training curves the legend gets two columns; above MAX_LEGEND, none.
LEGEND_ONE_COLUMN, MAX_LEGEND = 16, 40
_ROW = 0.42  # half the height of a point's row, for per-row oracle ticks


def save(fig: Figure, path: PathLike) -> None:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def seeds_phrase(seeds: pd.Series) -> str:
    """How many seeds the bars summarise: ``1 seed``, ``mean ± sd over 3 seeds`` or, when the
    points differ, ``mean ± sd over 1–3 seeds``."""
    low, high = int(seeds.min()), int(seeds.max())
    if high == 1:
        return "1 seed"
    return f"mean ± sd over {high if low == high else f'{low}–{high}'} seeds"


def with_seed_counts(labels: list[str], seeds: pd.Series) -> list[str]:
    """Append each point's seed count when the points do not all have the same."""
    if seeds.nunique() <= 1:
        return labels
    return [f"{label} ({n} seed{'s' if n != 1 else ''})" for label, n in zip(labels, seeds,
                                                                           strict=True)]


def point_label(row: pd.Series, keys: list[str]) -> str:
    return " ".join(f"{k}={row[k]}" for k in keys if row[k] != "")


def model_labels(points: pd.DataFrame, keys: list[str]) -> list[str]:
    """A point's model, plus the axes that differ between that model's points."""
    labels = []
    for _, row in points.iterrows():
        same_model = points[points["model"] == row["model"]]
        varying = [k for k in keys if k != "model" and same_model[k].nunique() > 1]
        labels.append(" ".join([row["model"], *(f"{k}={row[k]}" for k in varying)]))
    return labels


def message_figure(text: str) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    return fig


def figure_legend(fig: Figure) -> None:
    """One legend below the panels for the reference lines of every panel, if any."""
    entries: dict[str, object] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(list(entries.values()), list(entries), loc="outside lower center",
                   ncol=len(entries), fontsize=8, frameon=False)


def draw_oracle(ax, values: pd.Series | None, label: str) -> None:
    """Dashed oracle for the points on rows 0…n−1: one line when every point has the same
    value (the same test set), else a tick on each point's row."""
    if values is None or values.isna().all():
        return
    if values.notna().all() and np.allclose(values, values.iat[0], rtol=0, atol=1e-12):
        ax.axvline(values.iat[0], ls="--", c="k", lw=1, label=label)
        return
    first = True
    for i, value in enumerate(values):
        if not pd.isna(value):
            ax.plot([value, value], [i - _ROW, i + _ROW], ls="--", c="k", lw=1.2,
                    label=f"{label}, per test set" if first else None)
            first = False


def draw_bars(ax, mean: pd.Series, sd: pd.Series | None, seeds: pd.Series, colours) -> None:
    """Horizontal bars on rows 0…n−1; error bars only for points with more than one seed;
    "undefined" where the mean is undefined."""
    y = np.arange(len(mean))
    ax.barh(y, mean.fillna(0), color=colours, alpha=0.8)
    several = (seeds.to_numpy() > 1) & mean.notna().to_numpy()
    if sd is not None and several.any():
        ax.errorbar(mean[several], y[several], xerr=sd.fillna(0)[several], fmt="none",
                    ecolor="k", elinewidth=1, capsize=3)
    for i in np.flatnonzero(mean.isna().to_numpy()):
        ax.text(0, i, "  undefined", va="center", fontsize=8, color="dimgrey")


def finish_rows(ax, labels: list[str]) -> None:
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first point at the top
    ax.axvline(0, c="grey", lw=0.8)


def correlation_limits(ax, *series: pd.Series | None) -> None:
    known = pd.concat([s for s in series if s is not None]).dropna()
    low = min(0.0, float(known.min()) - 0.05) if len(known) else 0.0
    ax.set_xlim(low, 1.0)


def metrics_figure(points: pd.DataFrame, keys: list[str]) -> Figure:
    """Test Pearson, Spearman and AUROC per point, one panel each."""
    panels = [p for p in METRIC_PANELS if f"test_{p[0]}_mean" in points]
    if not panels:
        return message_figure("no test Pearson, Spearman or AUROC in the metrics")
    points = points.reset_index(drop=True)
    if "model" in points:
        labels = model_labels(points, keys)
    else:
        varying = [k for k in keys if points[k].nunique() > 1] or keys[:1]
        labels = [point_label(r, varying) for _, r in points.iterrows()]
    labels = with_seed_counts(labels, points["seeds"])
    phrase = seeds_phrase(points["seeds"])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels) + 1.5,
                                                      0.45 * len(points) + 2.2),
                             squeeze=False, sharey=True, layout="constrained")
    for ax, (name, title, reference) in zip(axes[0], panels, strict=True):
        mean, sd = points[f"test_{name}_mean"], points.get(f"test_{name}_sd")
        draw_bars(ax, mean, sd, points["seeds"], "tab:blue")
        oracle = value_column(points, f"test_{reference}") if reference else None
        draw_oracle(ax, oracle, "oracle (noise ceiling)")
        if name == "auroc":
            ax.axvline(0.5, ls=":", c="k", lw=1.2, label="chance (AUROC)", zorder=3)
        correlation_limits(ax, mean, oracle)
        ax.set_xlabel(f"test {title}\n({phrase})", fontsize=9)
    finish_rows(axes[0][0], labels)
    figure_legend(fig)
    return fig


def models_figure(summary: pd.DataFrame, points: pd.DataFrame, keys: list[str]) -> Figure:
    """Models side by side: test Pearson and MSE per point, bars over seeds, each seed a dot."""
    panels = [n for n in ("pearson", "mse") if f"test_{n}_mean" in points]
    if not panels:
        return message_figure("no test Pearson or MSE in the metrics")
    points = points.reset_index(drop=True)
    labels = with_seed_counts(model_labels(points, keys), points["seeds"])
    colours = {m: plt.cm.tab10(i % 10) for i, m in enumerate(dict.fromkeys(points["model"]))}
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels),
                                                      0.45 * len(points) + 2.4),
                             squeeze=False, sharey=True, layout="constrained")
    # Each point's seed rows of the summary, for the dots (points with several seeds only).
    seed_rows = {}
    for i, row in points.iterrows():
        if row["seeds"] >= 2:
            match = np.ones(len(summary), dtype=bool)
            for key in keys:
                match &= (summary[key].astype(str) == str(row[key])).to_numpy()
            seed_rows[i] = summary[match]
    for ax, name in zip(axes[0], panels, strict=True):
        mean = points[f"test_{name}_mean"]
        draw_bars(ax, mean, points.get(f"test_{name}_sd"), points["seeds"],
                  [colours[m] for m in points["model"]])
        for i, rows in seed_rows.items():
            values = pd.to_numeric(rows[f"test_{name}"], errors="coerce").dropna()
            ax.plot(values, [i] * len(values), "k.", ms=4)
        if name == "pearson":
            oracle = value_column(points, "test_oracle_pearson")
            draw_oracle(ax, oracle, "oracle (noise ceiling)")
            correlation_limits(ax, mean, oracle)
        else:
            ax.set_xlim(left=0)
        ax.set_xlabel(f"test {'Pearson' if name == 'pearson' else 'MSE (τ²)'}")
    finish_rows(axes[0][0], labels)
    if points["seeds"].max() > 1:
        bars = f"bars are the {seeds_phrase(points['seeds'])}, dots are seeds"
    else:
        bars = "1 seed per point"
    splits = points["split"].nunique() if "split" in points else 1
    sets = "the same test set" if splits == 1 else f"{splits} splits (different test sets)"
    fig.suptitle(f"Models on {sets}: {bars}", fontsize=10)
    figure_legend(fig)
    return fig


def curve_values(curve: pd.DataFrame, column: str) -> pd.DataFrame:
    """``epoch`` and ``column`` of a Lightning metrics.csv: only the rows that log ``column``,
    and only finite values (NaN, ±inf are skipped)."""
    if column not in curve or "epoch" not in curve:
        return pd.DataFrame({"epoch": [], column: []})
    values = curve[["epoch", column]].apply(pd.to_numeric, errors="coerce")
    values = values[np.isfinite(values[column]) & values["epoch"].notna()]
    return values.drop_duplicates("epoch", keep="last").sort_values("epoch")


def curve_labels(points: list[dict[str, str]]) -> list[str]:
    """Name each curve by the axes (and seed) that differ between the curves."""
    keys = list(dict.fromkeys(k for p in points for k in p))
    varying = [k for k in keys if len({p.get(k, "") for p in points}) > 1]
    if not varying:
        varying = [k for k in ("model", "seed") if k in keys]
    return [" ".join(f"{k}={p[k]}" for k in varying if p.get(k, "") != "") for p in points]


def curves_figure(curve_files: list[PathLike]) -> Figure:
    """Training loss, its interaction part, validation MSE and validation Pearson per epoch:
    one line per neural point × seed, the same colour in every panel, legend outside."""
    if not curve_files:
        return message_figure("no neural model in this sweep: no training curves")
    points = [point_of(path) for path in curve_files]
    labels = curve_labels(points)
    palette = plt.cm.tab10 if len(curve_files) <= 10 else plt.cm.tab20
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, layout="constrained")
    handles = []
    for k, (path, label) in enumerate(zip(curve_files, labels, strict=True)):
        colour = palette(k % palette.N) if len(curve_files) <= 20 else \
            plt.cm.viridis(k / (len(curve_files) - 1))
        curve = pd.read_csv(path)
        for ax, (column, _) in zip(axes.flat, CURVE_PANELS, strict=True):
            values = curve_values(curve, column)
            (line,) = ax.plot(values["epoch"], values[column], lw=1.2, color=colour, label=label)
        handles.append(line)
    for ax, (column, ylabel) in zip(axes.flat, CURVE_PANELS, strict=True):
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=8)
        if not any(len(line.get_xdata()) for line in ax.lines):
            ax.text(0.5, 0.5, f"{column} not logged", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9, color="dimgrey")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    n = len(curve_files)
    title = f"{n} curve{'s' if n != 1 else ''}: one per neural point × seed"
    if n <= MAX_LEGEND:
        fig.legend(handles, labels, loc="outside right center", fontsize=7,
                   ncol=1 if n <= LEGEND_ONE_COLUMN else 2, frameon=False)
    else:
        title += " (too many to label: see each metrics.csv)"
    fig.suptitle(title, fontsize=10)
    return fig


def plot_metrics(points: pd.DataFrame, keys: list[str], path: PathLike) -> None:
    save(metrics_figure(points, keys), path)


def plot_models(summary: pd.DataFrame, points: pd.DataFrame, keys: list[str],
                path: PathLike) -> None:
    save(models_figure(summary, points, keys), path)


def plot_curves(curve_files: list[PathLike], path: PathLike) -> None:
    save(curves_figure(curve_files), path)

