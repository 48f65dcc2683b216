"""Canonical tables passed between stages, with their one writer and one reader each.

``interactions.parquet`` — one row per unique gene set:

==================  =========  ==========================================================
column              dtype      meaning
==================  =========  ==========================================================
gene_a, gene_b      str        systematic names, sorted so that gene_a < gene_b < gene_c
gene_c              str        third gene, ``""`` for digenic sets
arity               int8       2 or 3
tau                 float64    published adjusted score (τ for triples, ε for pairs)
p_value             float64    published p-value; NaN where the source publishes none (DCell)
source              str        ``kuzmin2018``, ``kuzmin2020``, ``costanzo2016``, ``synthetic``…
n_measurements      int32      raw rows merged into this set (duplicates, see below)
tau_noise_free      float64    optional: noise-free τ (synthetic data only)
published_split     str        optional: ``train``/``test`` of a published split (DCell files)
==================  =========  ==========================================================

STRING edge tables (``data/processed/<run>/string/v<release>.parquet`` in the workflow) — one
row per undirected edge and channel: ``gene_a < gene_b`` (str), ``channel`` (str), ``weight``
(float32, channel score / 1000).

Duplicate gene sets (the same set measured by several strains, screens or sources) are resolved
by :func:`resolve_duplicates`; the rule is a config choice and every merge is counted in QC.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    require_columns,
    write_parquet_atomic,
    write_text_atomic,
)

log = logging.getLogger(__name__)

INTERACTION_COLUMNS = ["gene_a", "gene_b", "gene_c", "arity", "tau", "p_value", "source",
                       "n_measurements"]
EDGE_COLUMNS = ["gene_a", "gene_b", "channel", "weight"]

#: The six STRING evidence channels DANGO uses (text mining and the combined score are not).
STRING_CHANNELS = ("neighborhood", "fusion", "cooccurence", "coexpression", "experimental",
                   "database")

#: How duplicate gene sets are merged:
#: ``most_significant`` keeps the measurement with the smallest p-value (ties: larger |τ|, then
#: first in file order), so τ and p stay one real measurement;
#: ``mean`` averages τ and keeps the smallest p-value as the set's best evidence.
DUPLICATE_RULES = ("most_significant", "mean")


def gene_set_frame(genes: list[list[str]]) -> pd.DataFrame:
    """Sort each set and spread it over ``gene_a, gene_b, gene_c`` (``""`` when absent)."""
    rows = [sorted(s) + [""] * (3 - len(s)) for s in genes]
    frame = pd.DataFrame(rows, columns=["gene_a", "gene_b", "gene_c"], dtype=str)
    frame["arity"] = np.array([len(s) for s in genes], dtype=np.int8)
    return frame


def resolve_duplicates(frame: pd.DataFrame, rule: str, qc: QCReport) -> pd.DataFrame:
    """Collapse rows with the same gene set into one, counting what was merged.

    ``frame`` has the canonical columns except ``n_measurements`` (each row is one measurement).
    Output order is deterministic: sets are ordered by the file position of the row that
    represents them (the winning row for ``most_significant``, the first row for ``mean``).
    NaN p-values rank after every real one.
    """
    if rule not in DUPLICATE_RULES:
        raise ValueError(f"unknown duplicate rule {rule!r}; choose one of {DUPLICATE_RULES}")
    key = ["gene_a", "gene_b", "gene_c"]
    frame = frame.reset_index(drop=True)
    frame["_order"] = np.arange(len(frame))
    sizes = frame.groupby(key, sort=False)["_order"].transform("size")
    dup_mask = sizes > 1
    n_dup_sets = frame.loc[dup_mask, key].drop_duplicates().shape[0]
    n_extra = int(dup_mask.sum()) - n_dup_sets
    if n_extra:
        example = frame.loc[dup_mask, key].iloc[0].tolist()
        qc.count("duplicate_sets", n_dup_sets, example="+".join(g for g in example if g))
        qc.count("duplicate_rows_merged", n_extra)
        log.info("merging %d duplicate rows of %d gene sets (rule: %s)", n_extra, n_dup_sets,
                 rule)
    if rule == "most_significant":
        ranked = frame.assign(_abs=frame["tau"].abs()).sort_values(
            ["p_value", "_abs", "_order"], ascending=[True, False, True], kind="stable"
        )
        best = ranked.drop_duplicates(key, keep="first").drop(columns="_abs")
        best = best.merge(
            frame.groupby(key, sort=False).size().rename("n_measurements").reset_index(), on=key
        )
    else:
        agg = frame.groupby(key, sort=False).agg(
            arity=("arity", "first"), tau=("tau", "mean"), p_value=("p_value", "min"),
            source=("source", lambda s: "+".join(dict.fromkeys(s))),
            n_measurements=("tau", "size"), _order=("_order", "min"),
            **({"tau_noise_free": ("tau_noise_free", "mean")}
               if "tau_noise_free" in frame else {}),
        )
        best = agg.reset_index()
    best = best.sort_values("_order", kind="stable").drop(columns="_order")
    best["n_measurements"] = best["n_measurements"].astype(np.int32)
    return best.reset_index(drop=True)


def write_interactions(frame: pd.DataFrame, path: PathLike) -> None:
    """Validate and write the canonical interactions table."""
    validate_interactions(frame, path)
    extra = [c for c in frame.columns if c not in INTERACTION_COLUMNS]
    write_parquet_atomic(frame[INTERACTION_COLUMNS + extra], path)


def read_interactions(path: PathLike) -> pd.DataFrame:
    """Read ``interactions.parquet`` and check it is canonical (columns, arity, no duplicates)."""
    frame = pd.read_parquet(path)
    validate_interactions(frame, path)
    return frame


def validate_interactions(frame: pd.DataFrame, path: PathLike) -> None:
    require_columns(frame, INTERACTION_COLUMNS, path)
    arity = (frame[["gene_a", "gene_b", "gene_c"]] != "").sum(axis=1)
    bad = np.flatnonzero(arity.to_numpy() != frame["arity"].to_numpy())
    if len(bad):
        raise InputFormatError(path, 0, f"row {bad[0]}: column arity disagrees with its genes")
    unsorted = (frame["gene_a"] >= frame["gene_b"]) | (
        (frame["gene_c"] != "") & (frame["gene_b"] >= frame["gene_c"])
    )
    if unsorted.any():
        raise InputFormatError(
            path, 0, f"row {int(np.flatnonzero(unsorted)[0])}: gene set is not sorted/unique"
        )
    if frame["tau"].isna().any():
        raise InputFormatError(path, 0, f"row {int(np.flatnonzero(frame['tau'].isna())[0])}: "
                                        "tau is NaN")
    dup = frame.duplicated(["gene_a", "gene_b", "gene_c"])
    if dup.any():
        raise InputFormatError(path, 0, f"row {int(np.flatnonzero(dup)[0])}: duplicate gene set")
    if "published_split" in frame:
        bad = ~frame["published_split"].isin(["train", "test"]).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputFormatError(path, 0, f"row {row}: published_split is "
                                            f"{frame['published_split'].iat[row]!r}, expected "
                                            "train or test")


def write_edges(frame: pd.DataFrame, path: PathLike) -> None:
    """Validate and write a canonical STRING edge table."""
    validate_edges(frame, path)
    write_parquet_atomic(frame[EDGE_COLUMNS], path)


def read_edges(path: PathLike) -> pd.DataFrame:
    """Read a canonical STRING edge table written by :func:`write_edges`."""
    frame = pd.read_parquet(path)
    validate_edges(frame, path)
    return frame


def validate_edges(frame: pd.DataFrame, path: PathLike) -> None:
    require_columns(frame, EDGE_COLUMNS, path)
    if not (frame["gene_a"] < frame["gene_b"]).all():
        raise InputFormatError(path, 0, "edges must be undirected with gene_a < gene_b")
    w = frame["weight"].to_numpy()
    if len(w) and (np.isnan(w).any() or w.min() <= 0 or w.max() > 1):
        raise InputFormatError(path, 0, "edge weights must lie in (0, 1]")
    if frame.duplicated(["gene_a", "gene_b", "channel"]).any():
        raise InputFormatError(path, 0, "duplicate edge within a channel")


def read_gene_index(path: PathLike) -> list[str]:
    """Read ``genes.tsv``: header ``gene``, one systematic name per line; row i = node id i."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != "gene":
        raise InputFormatError(path, 1, f"expected header 'gene', found {lines[:1]!r}")
    genes = lines[1:]
    seen: dict[str, int] = {}
    for i, gene in enumerate(genes):
        if gene in seen:
            raise InputFormatError(path, i + 2, f"gene {gene!r} repeats line {seen[gene] + 2}")
        seen[gene] = i
    return genes


def write_gene_index(genes: list[str], path: PathLike) -> None:
    write_text_atomic(path, "gene\n" + "".join(f"{g}\n" for g in genes))
