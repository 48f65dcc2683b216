"""``geneint aggregate``: every sweep point × seed into ``summary.tsv`` and
``summary_by_point.tsv`` (:mod:`geneint.report.tables`), with plots
(:mod:`geneint.report.plots`): ``metrics.png`` (test Pearson, Spearman, AUROC per point),
``models.png`` (models side by side: test Pearson and MSE) and ``training_curves.png``
(losses and validation Pearson of the neural models). docs/outputs.md describes every column.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from geneint.data.files import PathLike, atomic_output
from geneint.report.plots import plot_curves, plot_metrics, plot_models
from geneint.report.tables import by_point, key_columns, summary_table

log = logging.getLogger(__name__)


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
    keys = key_columns(points)
    (results / "plots").mkdir(parents=True, exist_ok=True)
    plot_metrics(points, keys, results / "plots" / "metrics.png")
    plot_models(summary, points, keys, results / "plots" / "models.png")
    plot_curves(curve_files, results / "plots" / "training_curves.png")
    log.info("%d runs over %d sweep points -> %s", len(summary), len(points), results)
    return summary
