"""Build the canonical interactions table from raw sources.

:func:`build_interactions` reads each raw file with its reader (measurement rows), keeps the
requested arities, merges duplicate gene sets across all sources with
:func:`~geneint.data.canonical.resolve_duplicates`, and optionally joins the noise-free τ that the
synthetic generator writes. The result is ready for
:func:`~geneint.data.canonical.write_interactions`; the QC report is the caller's to write.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.canonical import (
    DUPLICATE_RULES,
    INTERACTION_COLUMNS,
    resolve_duplicates,
)
from geneint.data.costanzo import read_costanzo_sga, read_dcell_pairs
from geneint.data.files import InputFormatError, PathLike, QCReport
from geneint.data.kuzmin import read_kuzmin2018, read_kuzmin2020
from geneint.data.published_tsv import (
    FirstProblem,
    check_unknown_genes_policy,
    iter_tsv_blocks,
    parse_numbers,
)

log = logging.getLogger(__name__)

Reader = Callable[..., pd.DataFrame]

#: Source kinds accepted by :func:`build_interactions` and the reader of each.
READERS: dict[str, Reader] = {
    "kuzmin2018": read_kuzmin2018,
    "kuzmin2020": read_kuzmin2020,
    "costanzo2016_sga": read_costanzo_sga,
    "dcell_pairs": read_dcell_pairs,
    "dcell_train": read_dcell_pairs,
    "dcell_test": read_dcell_pairs,
}
#: Sources published as a train or test file: their sets keep that role in column
#: ``published_split`` (a set found in both is a test set, counted in QC), for the split kind
#: ``published``.
PUBLISHED_ROLES = {"dcell_train": "train", "dcell_test": "test"}

TRUTH_COLUMNS = ["gene_a", "gene_b", "gene_c", "tau_noise_free"]

_KEY = ["gene_a", "gene_b", "gene_c"]


def read_truth(path: PathLike) -> pd.DataFrame:
    """Read the synthetic generator's noise-free τ table.

    Args:
        path: TSV with header ``gene_a  gene_b  gene_c  tau_noise_free``; genes sorted
            (``gene_a < gene_b < gene_c``), ``gene_c`` empty for pairs, one row per set.

    Returns:
        A frame with the four columns (genes as ``str``, ``tau_noise_free`` float64).

    Raises:
        InputFormatError: wrong header, field count, unsorted or repeated gene set, or a
            blank/non-finite value, naming file and line.
    """
    path = Path(path)
    blocks: list[pd.DataFrame] = []
    for frame, lines in iter_tsv_blocks(path, TRUTH_COLUMNS):
        a, b, c = frame[0], frame[1], frame[2]
        problems = FirstProblem(path, lines)
        problems.add(~((a < b) & ((c == "") | (b < c))).to_numpy(),
                     lambda i: f"gene set {a.iat[i]!r}, {b.iat[i]!r}, {c.iat[i]!r} is not "
                               "sorted (gene_a < gene_b < gene_c, gene_c empty for pairs)")
        values = parse_numbers(frame[3], "tau_noise_free", problems)
        problems.raise_first()
        blocks.append(pd.DataFrame({"gene_a": a, "gene_b": b, "gene_c": c,
                                    "tau_noise_free": values, "_line": lines}))
    if not blocks:
        return pd.DataFrame({c: pd.Series([], dtype=str) for c in _KEY}).assign(
            tau_noise_free=np.array([], dtype=np.float64))
    table = pd.concat(blocks, ignore_index=True)
    dup = table.duplicated(_KEY).to_numpy()
    if dup.any():
        row = table.iloc[int(np.flatnonzero(dup)[0])]
        raise InputFormatError(path, int(row["_line"]), "gene set "
                               f"{'+'.join(g for g in row[_KEY] if g)} repeats an earlier line")
    return table.drop(columns="_line")


def _label(kind: str, path: Path, kinds: Counter[str]) -> str:
    """QC prefix of one source: ``kind/``, or ``kind/<file name>/`` when a kind repeats."""
    return f"{kind}/" if kinds[kind] == 1 else f"{kind}/{path.name}/"


def build_interactions(
    sources: list[tuple[str, Path]],
    universe: set[str] | None,
    unknown_genes: str = "drop",
    duplicate_rule: str = "most_significant",
    arities: tuple[int, ...] = (2, 3),
    truth: Path | None = None,
) -> tuple[pd.DataFrame, QCReport]:
    """Read raw interaction files and merge them into one row per unique gene set.

    Args:
        sources: ``(kind, path)`` pairs; ``kind`` is one of :data:`READERS`
            (``kuzmin2018``, ``kuzmin2020``, ``costanzo2016_sga``, ``dcell_pairs``).
        universe: genes to keep (``None``: every valid ORF).
        unknown_genes: ``"drop"`` or ``"error"`` for valid ORFs outside ``universe``.
        duplicate_rule: how repeated gene sets (within and across sources) are merged, one of
            :data:`~geneint.data.canonical.DUPLICATE_RULES`.
        arities: gene-set sizes to keep; other rows are counted in ``rows_other_arity``.
        truth: optional noise-free τ table (see :func:`read_truth`); every kept set must be in
            it, and its value becomes column ``tau_noise_free``.

    Returns:
        The table with :data:`~geneint.data.canonical.INTERACTION_COLUMNS` (+ ``tau_noise_free``)
        and the merged QC report: each reader's counts prefixed ``<kind>/`` (``<kind>/<file>/``
        when a kind is given twice), plus ``rows_measurements``, ``rows_other_arity``,
        ``duplicate_sets``, ``duplicate_rows_merged``, ``sets_kept``, ``sets_digenic``,
        ``sets_trigenic``.

    Raises:
        ValueError: unknown kind/rule/arity, no sources, or a kept set missing from ``truth``.
        InputFormatError: from the readers, for malformed input.
    """
    if not sources:
        raise ValueError("no sources given")
    unknown = [kind for kind, _ in sources if kind not in READERS]
    if unknown:
        raise ValueError(f"unknown source kind(s) {unknown}; choose from {list(READERS)}")
    if duplicate_rule not in DUPLICATE_RULES:
        raise ValueError(f"unknown duplicate rule {duplicate_rule!r}; choose one of "
                         f"{DUPLICATE_RULES}")
    if not arities or any(a not in (2, 3) for a in arities):
        raise ValueError(f"arities must be a non-empty subset of (2, 3), got {arities!r}")
    check_unknown_genes_policy(unknown_genes)

    paths = [Path(p) for _, p in sources]
    qc = QCReport(list(paths))
    kinds = Counter(kind for kind, _ in sources)
    frames = []
    for (kind, _), path in zip(sources, paths, strict=True):
        source_qc = QCReport(path)
        frame = READERS[kind](path, universe=universe, unknown_genes=unknown_genes,
                              qc=source_qc)
        frames.append(frame.assign(_published=PUBLISHED_ROLES.get(kind, "")))
        qc.merge(source_qc, prefix=_label(kind, path, kinds))
    published = {kind for kind, _ in sources if kind in PUBLISHED_ROLES}
    if published and published != set(PUBLISHED_ROLES):
        raise ValueError(f"published train and test files come together: got only "
                         f"{sorted(published)}")
    rows = pd.concat(frames, ignore_index=True)
    qc.count("rows_measurements", len(rows))

    other = ~rows["arity"].isin(arities).to_numpy()
    if other.any():
        first = rows.loc[other, _KEY].iloc[0]
        qc.count("rows_other_arity", int(other.sum()),
                 example="+".join(g for g in first if g))
        rows = rows.loc[~other].reset_index(drop=True)
    else:
        qc.count("rows_other_arity", 0)

    roles = rows.pop("_published")
    table = resolve_duplicates(rows, duplicate_rule, qc)
    qc.info["duplicate_rule"] = duplicate_rule
    qc.info["arities"] = list(arities)

    columns = list(INTERACTION_COLUMNS)
    if published:
        table = _join_published_roles(table, rows.assign(_published=roles), qc)
        columns.append("published_split")
    if truth is not None:
        table = _join_truth(table, Path(truth))
        qc.sources.append(str(truth))
        columns.append("tau_noise_free")

    n_tri = int((table["arity"] == 3).sum())
    qc.count("sets_kept", len(table))
    qc.count("sets_trigenic", n_tri)
    qc.count("sets_digenic", len(table) - n_tri)
    log.info("%s measurement rows -> %s gene sets (%s digenic, %s trigenic; rule %s)",
             f"{len(rows):,}", f"{len(table):,}", f"{len(table) - n_tri:,}", f"{n_tri:,}",
             duplicate_rule)
    return _canonical_dtypes(table[columns].reset_index(drop=True)), qc


def _join_published_roles(table: pd.DataFrame, rows: pd.DataFrame,
                          qc: QCReport) -> pd.DataFrame:
    """Column ``published_split``: ``test`` if any measurement of the set came from a published
    test file, else ``train``."""
    in_test = rows.assign(_test=rows["_published"] == "test").groupby(_KEY, sort=False)[
        "_test"].agg(["any", "all"]).reset_index()
    both = in_test["any"] & ~in_test["all"]
    if both.any():
        first = in_test.loc[both, _KEY].iloc[0]
        qc.count("sets_in_published_train_and_test", int(both.sum()),
                 example="+".join(g for g in first if g))
    else:
        qc.count("sets_in_published_train_and_test", 0)
    joined = table.merge(in_test[_KEY + ["any"]], on=_KEY, how="left", validate="one_to_one")
    joined["published_split"] = np.where(joined.pop("any"), "test", "train")
    return joined


def _canonical_dtypes(table: pd.DataFrame) -> pd.DataFrame:
    """Pin the dtypes of :mod:`geneint.data.canonical` (the ``mean`` rule's groupby returns
    ``source`` as object, and an empty frame loses them)."""
    table = table.copy()
    for col in ("gene_a", "gene_b", "gene_c", "source", "published_split"):
        if col in table:
            table[col] = table[col].astype(str)
    table["arity"] = table["arity"].astype(np.int8)
    for col in ("tau", "p_value", "tau_noise_free"):
        if col in table:
            table[col] = table[col].astype(np.float64)
    table["n_measurements"] = table["n_measurements"].astype(np.int32)
    return table


def _join_truth(table: pd.DataFrame, truth: Path) -> pd.DataFrame:
    """Add ``tau_noise_free`` from the truth table; every set of ``table`` must be there."""
    values = read_truth(truth)
    joined = table.merge(values, on=_KEY, how="left", validate="one_to_one", sort=False)
    missing = joined["tau_noise_free"].isna().to_numpy()
    if missing.any():
        first = joined.loc[missing, _KEY].iloc[0]
        raise ValueError(
            f"{truth}: no tau_noise_free for gene set {'+'.join(g for g in first if g)} "
            f"({int(missing.sum()):,} of {len(joined):,} kept sets are missing)"
        )
    return joined
