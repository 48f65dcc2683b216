"""The perturbation study's summary: one row per model × regime × seed (``summary.tsv``), the
median over seeds (``summary_by_model.tsv``), and CausalBench's plots — precision, mean
Wasserstein and false omission rate per model and regime, and the Wasserstein–FOR trade-off
(a good network has a high mean Wasserstein at a low FOR: upper left)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on clusters or CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from geneint.data.files import PathLike, atomic_output, write_text_atomic

STATISTICAL = ("precision", "mean_wasserstein", "false_omission_rate", "true_positives",
               "false_positives", "untestable", "negative_mean_wasserstein")
BIOLOGICAL = ("precision_directed", "precision_undirected", "recall_directed", "known_edges")
#: Panels of ``network_metrics.png``: (column, axis label).
PANELS = (("precision", "statistical precision\n(Mann–Whitney p < 0.05)"),
          ("mean_wasserstein", "mean Wasserstein-1"),
          ("false_omission_rate", "false omission rate"),
          ("precision_directed", "precision vs known edges\n(directed)"))


def metrics_row(path: PathLike) -> dict:
    metrics = json.loads(Path(path).read_text())
    inference = metrics.get("inference", {})
    row = {"model": inference.get("model"), "regime": inference.get("regime"),
           "seed": inference.get("seed"), "edges": metrics["edges"],
           "train_cells": inference.get("cells"), "seconds": inference.get("seconds")}
    statistical, biological = metrics["statistical"], metrics["biological"]
    row.update({key: statistical.get(key, np.nan) for key in STATISTICAL})
    row.update({key: biological.get(key, np.nan) for key in BIOLOGICAL})
    row["ground_truth"] = biological.get("ground_truth")
    return row


def regime_order(regimes) -> list[str]:
    def key(regime: str) -> float:
        if regime == "observational":
            return 0.0
        return 1.0 if regime == "interventional" else float(regime.removeprefix("partial"))

    return sorted(set(regimes), key=key)


def plot_metrics(summary: pd.DataFrame, path: PathLike) -> None:
    models = list(dict.fromkeys(summary["model"]))
    regimes = regime_order(summary["regime"])
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 4.6))
    width = 0.8 / len(models)
    for ax, (column, label) in zip(axes, PANELS):
        for k, model in enumerate(models):
            rows = summary[summary["model"] == model]
            offset = (k - (len(models) - 1) / 2) * width   # this model's bar within a regime
            medians = rows.groupby("regime")[column].median()
            ax.bar([regimes.index(r) + offset for r in medians.index], medians.to_numpy(),
                   width, label=model, alpha=0.7)
            ax.scatter([regimes.index(r) + offset for r in rows["regime"]], rows[column],
                       color="black", s=8, zorder=3)
        ax.set_xticks(range(len(regimes)), regimes, rotation=20)
        ax.set_ylabel(label)
        if summary[column].isna().all():
            ax.text(0.5, 0.5, "undefined for this data set", ha="center",
                    transform=ax.transAxes)
    seeds = summary.groupby(["model", "regime"]).size().max()
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(models), fontsize=9,
               title=f"bars: median of {seeds} seed(s); dots: single seeds")
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    save_figure(fig, path)


def plot_tradeoff(summary: pd.DataFrame, path: PathLike) -> None:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    markers = dict(zip(regime_order(summary["regime"]), "osD^v<>"))
    for model, rows in summary.groupby("model", sort=False):
        medians = rows.groupby("regime")[["false_omission_rate", "mean_wasserstein"]].median()
        color = ax.scatter(rows["false_omission_rate"], rows["mean_wasserstein"], s=10,
                           alpha=0.4).get_facecolor()[0]
        for regime, values in medians.iterrows():
            ax.scatter(values["false_omission_rate"], values["mean_wasserstein"], s=70,
                       marker=markers[regime], color=color, edgecolor="black",
                       label=f"{model}, {regime}")
    ax.set_xlabel("false omission rate (lower is better)")
    ax.set_ylabel("mean Wasserstein-1 of the edges (higher is better)")
    ax.set_title("Wasserstein–FOR trade-off (large marks: median over seeds)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path: PathLike) -> None:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def aggregate_networks(metrics: list[PathLike], results: Path) -> pd.DataFrame:
    summary = pd.DataFrame([metrics_row(p) for p in metrics])
    summary = summary.sort_values(["model", "regime", "seed"], kind="stable")
    write_text_atomic(results / "summary.tsv", summary.to_csv(sep="\t", index=False))
    numeric = summary.drop(columns=["seed", "ground_truth"]).select_dtypes("number").columns
    by_model = summary.groupby(["model", "regime"], sort=False)[list(numeric)].median()
    by_model.insert(0, "seeds", summary.groupby(["model", "regime"], sort=False).size())
    write_text_atomic(results / "summary_by_model.tsv", by_model.reset_index().to_csv(
        sep="\t", index=False))
    plot_metrics(summary, results / "plots" / "network_metrics.png")
    plot_tradeoff(summary, results / "plots" / "wasserstein_for.png")
    return summary
