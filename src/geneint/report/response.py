"""The response task's summary: one row per model × seed (``summary.tsv``; GEARS' headline
metrics over every held-out perturbation and per subgroup), the median over seeds
(``summary_by_model.tsv``), and two plots — the per-perturbation metrics of each model
(``response_metrics.png``) and the predicted against the observed change of the top-20 DE
genes (``response_delta.png``: on the diagonal is right; a flat cloud is a model that predicts
one profile for every perturbation)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on clusters or CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from geneint.data.files import PathLike, write_text_atomic
from geneint.evaluate.perturbation_response import HEADLINE
from geneint.report.perturbation import save_figure

#: Panels of ``response_metrics.png``: (column, axis label).
PANELS = (("pearson_delta", "Pearson of the delta\n(all genes)"),
          ("pearson_delta_de20", "Pearson of the delta\n(top-20 DE genes)"),
          ("mse_de20", "MSE, top-20 DE genes\n(lower is better)"),
          ("dac", "direction accuracy (DAC)\n(all genes)"))
SUBGROUP_COLUMNS = ("pearson_delta", "mse_de20")


def metrics_row(path: PathLike) -> dict:
    metrics = json.loads(Path(path).read_text())
    prediction = metrics.get("prediction", {})
    row = {"model": prediction.get("model"), "seed": prediction.get("seed"),
           "held_out": metrics["held_out"], "seconds": prediction.get("seconds")}
    row.update({key: metrics["overall"].get(key, np.nan) for key in HEADLINE})
    for group, values in metrics["by_subgroup"].items():
        row.update({f"{key}_{group}": values.get(key, np.nan) for key in SUBGROUP_COLUMNS})
    row["gi_magnitude_abs_error"] = metrics.get("interactions", {}).get("magnitude_abs_error",
                                                                         np.nan)
    return row


def plot_per_perturbation(tables: dict[str, pd.DataFrame], path: PathLike) -> None:
    models = list(tables)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 4.4))
    for ax, (column, label) in zip(axes, PANELS):
        values = [tables[m][column].dropna().to_numpy() for m in models]
        ax.boxplot(values, showfliers=False)
        for k, v in enumerate(values, start=1):
            jitter = np.random.default_rng(k).uniform(-0.15, 0.15, len(v))
            ax.scatter(k + jitter, v, s=6, color="black", alpha=0.4, zorder=3)
        ax.set_xticks(range(1, len(models) + 1), models, rotation=20)
        ax.set_ylabel(label)
    fig.suptitle("held-out perturbations (one dot each; all seeds)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def plot_deltas(deltas: dict[str, pd.DataFrame], path: PathLike) -> None:
    models = list(deltas)
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.8), squeeze=False)
    for ax, model in zip(axes[0], models):
        table = deltas[model]
        ax.scatter(table["true_delta"], table["predicted_delta"], s=5, alpha=0.4)
        low = float(np.nanmin(table[["true_delta", "predicted_delta"]].to_numpy()))
        high = float(np.nanmax(table[["true_delta", "predicted_delta"]].to_numpy()))
        ax.plot([low, high], [low, high], color="grey", linewidth=1)
        ax.set_title(model)
        ax.set_xlabel("observed change from control")
    axes[0][0].set_ylabel("predicted change from control")
    fig.suptitle("top-20 DE genes of each held-out perturbation (first seed)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def aggregate_responses(metrics: list[PathLike], results: Path) -> pd.DataFrame:
    rows = [metrics_row(p) for p in metrics]
    summary = pd.DataFrame(rows)
    summary = summary.sort_values(["model", "seed"], kind="stable")
    write_text_atomic(results / "summary.tsv", summary.to_csv(sep="\t", index=False))
    numeric = summary.drop(columns=["seed"]).select_dtypes("number").columns
    by_model = summary.groupby("model", sort=False)[list(numeric)].median()
    by_model.insert(0, "seeds", summary.groupby("model", sort=False).size())
    write_text_atomic(results / "summary_by_model.tsv",
                      by_model.reset_index().to_csv(sep="\t", index=False))
    per_perturbation: dict[str, list[pd.DataFrame]] = {}
    deltas: dict[str, pd.DataFrame] = {}
    for path, row in zip(metrics, rows):
        model = row["model"]
        per_perturbation.setdefault(model, []).append(
            pd.read_csv(Path(path).with_name("per_perturbation.tsv"), sep="\t"))
        if model not in deltas:   # the first seed's
            deltas[model] = pd.read_csv(Path(path).with_name("de_deltas.tsv"), sep="\t")
    plot_per_perturbation({m: pd.concat(t) for m, t in per_perturbation.items()},
                          results / "plots" / "response_metrics.png")
    plot_deltas(deltas, results / "plots" / "response_delta.png")
    return summary
