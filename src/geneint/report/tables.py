"""``summary.tsv`` (one row per sweep point × seed) and ``summary_by_point.tsv`` (one per point).

Sweep values are read back from the result paths (``…/eval/model~<m>/split~<s>/<key>~<value>/…
/seed<k>/``, see :mod:`geneint.sweep`), so the table needs no other bookkeeping. Models have
different axes; an axis a model does not have is left empty in its rows.

``summary_by_point.tsv`` follows one rule a reader can check: the metrics in
:data:`DATA_METRICS` describe the point's test/val/train sets, not the trained model, so they
are written **once, as their value** (``test_n``, ``test_oracle_pearson``, …); every other metric
gets its mean and sample sd over seeds (``test_pearson_mean``, ``test_pearson_sd``), side by
side. Should a data-only column differ between the seeds of a point (the seeds were scored on
different data), it is averaged like the others and a warning is logged, rather than hidden.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd

from geneint.data.files import PathLike

log = logging.getLogger(__name__)

_PARAM = re.compile(r"^(?P<key>[A-Za-z_]+)~(?P<value>.+)$")
_SEED = re.compile(r"^seed(?P<seed>\d+)$")
ROLES = ("test", "val", "train")
#: Leading columns of the tables, when present.
FIRST_KEYS = ("model", "split")
#: Metrics that depend only on the data of a role (and arity), never on training: one value
#: per point in ``summary_by_point.tsv``.
DATA_METRICS = ("n", "n_strong", "strong_fraction", "strong_threshold", "oracle_pearson",
                "oracle_spearman")
#: Prefix of the data metrics of the interaction classes (``fraction_negative``, …).
DATA_METRIC_PREFIXES = ("fraction_",)
#: Data metrics that are counts, written as integers.
COUNTS = ("n", "n_strong")
_METRIC = re.compile(rf"^(?:{'|'.join(ROLES)})_(?:arity\d+_)?(?P<metric>.+)$")


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


def metric_name(column: str) -> str | None:
    """``test_arity2_n_strong`` → ``n_strong``; None for a column that is not a metric."""
    match = _METRIC.match(column)
    return match["metric"] if match else None


def is_data_metric(name: str | None) -> bool:
    return name is not None and (name in DATA_METRICS or name.startswith(DATA_METRIC_PREFIXES))


def is_metric(column: str) -> bool:
    return column.startswith(ROLES)


def key_columns(table: pd.DataFrame) -> list[str]:
    """The sweep axes of a summary table (``model``, ``split``, …): not metrics, not the seed,
    not the seed count."""
    return [c for c in table.columns if not is_metric(c) and c not in ("seed", "seeds")]


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
    # A metric that is null in every row (the mean baseline's Pearson, swept alone) would be an
    # object column; it is numeric, just undefined.
    for column in table.columns:
        if is_metric(column) and table[column].isna().all():
            table[column] = table[column].astype(float)
    keys = key_columns(table)
    table[keys] = table[keys].fillna("")
    first = [k for k in FIRST_KEYS if k in table] + [k for k in keys if k not in FIRST_KEYS]
    return table[first + [c for c in table.columns if c not in first]]


def _as_counts(values: pd.Series) -> pd.Series:
    known = values.dropna()
    if (known == known.round()).all():
        return values.astype("Int64")
    return values


def by_point(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per sweep point: its keys, ``seeds``, each data-only metric once and every other
    metric as ``<metric>_mean`` and ``<metric>_sd`` over seeds (see the module docstring)."""
    keys = key_columns(summary)
    metrics = [c for c in summary.columns if is_metric(c)]
    numeric = [c for c in metrics if pd.api.types.is_numeric_dtype(summary[c])]
    if skipped := [c for c in metrics if c not in numeric]:
        log.warning("not numeric, left out of summary_by_point.tsv: %s", ", ".join(skipped))
    groups = summary.groupby(keys, sort=False, dropna=False)
    mean, sd = groups[numeric].mean(), groups[numeric].std()
    first = groups[numeric].first()
    columns: dict[str, pd.Series] = {"seeds": groups.size()}
    for column in numeric:
        name = metric_name(column)
        if is_data_metric(name):
            if (groups[column].nunique(dropna=False) <= 1).all():
                columns[column] = _as_counts(first[column]) if name in COUNTS else first[column]
                continue
            log.warning("%s differs between the seeds of a point (scored on different data?): "
                        "written as mean and sd", column)
        columns[f"{column}_mean"] = mean[column]
        columns[f"{column}_sd"] = sd[column]
    return pd.DataFrame(columns).reset_index()


def value_column(points: pd.DataFrame, column: str) -> pd.Series | None:
    """A metric of ``summary_by_point``: the value column of a data-only metric, or the
    ``_mean`` column; None when the metric is absent."""
    for name in (column, f"{column}_mean"):
        if name in points:
            return points[name].astype(float)
    return None
