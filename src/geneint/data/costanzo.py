"""Readers and writers for the Costanzo et al. 2016 digenic interaction data.

* ``SGA_*.txt`` from thecellmap.org ("Raw genetic interaction datasets: Pair-wise interaction
  format"): tab-separated, one header line, 11 columns (:data:`COSTANZO_SGA_COLUMNS`);
  ``SGA_NxN.txt`` alone has 12.7 M rows, so the reader works in vectorised blocks.
* The DCell training files (idekerlab/DCell ``training/``), e.g.
  ``GO_0006281_training_data_2016_0``: space-separated, no header,
  ``<n_genes> <ORF_1> … <ORF_n> <epsilon>``. They carry no p-value.

Like the Kuzmin readers these return measurement rows (``gene_a, gene_b, gene_c, arity, tau,
p_value, source``) without deduplication; see :mod:`geneint.data.kuzmin` for the shared rules.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.canonical import gene_set_frame
from geneint.data.files import InputFormatError, PathLike, QCReport, is_orf, iter_lines
from geneint.data.published_tsv import (
    MEASUREMENT_COLUMNS,
    FirstProblem,
    GeneChecker,
    check_unknown_genes_policy,
    count_rows,
    empty_measurements,
    iter_tsv_blocks,
    parse_numbers,
    strain_gene,
    write_tsv_table,
)

log = logging.getLogger(__name__)

COSTANZO_SGA_COLUMNS: list[str] = [
    "Query Strain ID",
    "Query allele name",
    "Array Strain ID",
    "Array allele name",
    "Arraytype/Temp",
    "Genetic interaction score (ε)",
    "P-value",
    "Query single mutant fitness (SMF)",
    "Array SMF",
    "Double mutant fitness",
    "Double mutant fitness standard deviation",
]

_QUERY, _ARRAY, _EPS, _P = 0, 2, 5, 6

#: Gene-set sizes the DCell file format may declare.
DCELL_ARITIES = (2, 3)


def sorted_pair_frame(first: pd.Series, second: pd.Series) -> pd.DataFrame:
    """Vectorised :func:`~geneint.data.canonical.gene_set_frame` for two distinct genes per row.

    ``gene_set_frame`` sorts each set in Python, which costs ~15 s and several GB of lists on
    the 12.7 M rows of ``SGA_NxN.txt``; this builds the identical frame (same columns, dtypes
    and values) with column-wise comparisons.
    """
    first = first.reset_index(drop=True).astype(str)
    second = second.reset_index(drop=True).astype(str)
    lower = (first < second).to_numpy()
    frame = pd.DataFrame({
        "gene_a": first.where(lower, second),
        "gene_b": second.where(lower, first),
        "gene_c": pd.Series([""] * len(first), dtype=str),
    })
    frame["arity"] = np.full(len(frame), 2, dtype=np.int8)
    return frame


def _sga_block(frame: pd.DataFrame, lines: np.ndarray, path: Path, genes: GeneChecker,
               qc: QCReport) -> pd.DataFrame:
    """Validate one block of SGA rows and turn the kept ones into measurement rows."""
    query, array = frame[_QUERY], frame[_ARRAY]
    g1, g2 = strain_gene(query), strain_gene(array)
    problems = FirstProblem(path, lines)
    for gene_col, ids, name in ((g1, query, "Query Strain ID"),
                                (g2, array, "Array Strain ID")):
        problems.add(genes.invalid(gene_col), lambda i, g=gene_col, s=ids, n=name:
                     f"unknown gene {g.iat[i]!r} in {n} {s.iat[i]!r}")
    tau = parse_numbers(frame[_EPS], COSTANZO_SGA_COLUMNS[_EPS], problems)
    p_value = parse_numbers(frame[_P], COSTANZO_SGA_COLUMNS[_P], problems, probability=True)
    out1, out2 = genes.outside(g1), genes.outside(g2)
    outside = out1 | out2
    if genes.unknown_genes == "error":
        problems.add(outside, lambda i: "gene "
                     f"{(g1 if out1[i] else g2).iat[i]!r} is not in the gene universe "
                     "(unknown_genes='error')")
    problems.raise_first()

    def example(i: int) -> str:
        return f"line {lines[i]}: {query.iat[i]} x {array.iat[i]}"

    same = (g1 == g2).to_numpy()
    dropped_outside = outside & ~same
    count_rows(qc, "rows_same_gene", same, example)
    count_rows(qc, "rows_gene_outside_universe", dropped_outside, example)
    keep = np.flatnonzero(~(same | dropped_outside))
    block = sorted_pair_frame(g1.iloc[keep], g2.iloc[keep])
    block["tau"] = tau[keep]
    block["p_value"] = p_value[keep]
    block["source"] = pd.Series(["costanzo2016"] * len(block), dtype=str)
    qc.count("rows_kept", len(block))
    return block[MEASUREMENT_COLUMNS]


def read_costanzo_sga(
    path: PathLike,
    universe: set[str] | None = None,
    unknown_genes: str = "drop",
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read a Costanzo 2016 ``SGA_*.txt`` pair-wise file into digenic measurement rows.

    Gene = strain id text before the first ``_`` (``YAL001C_tsq508`` → ``YAL001C``);
    τ = ``Genetic interaction score (ε)``, p = ``P-value``.

    Args:
        path: the tab-separated file (optionally gzipped).
        universe: genes to keep; ``None`` keeps every valid ORF.
        unknown_genes: ``"drop"`` (count in ``rows_gene_outside_universe``) or ``"error"`` for
            valid ORFs outside ``universe``.
        qc: report to add counts to (a new one when ``None``; the caller writes it).

    Returns:
        Measurement rows with arity 2 and ``source`` = ``"costanzo2016"``. Counts:
        ``rows_read``, ``rows_kept``, ``rows_same_gene`` (query and array strain of the same
        gene: not a pair), ``rows_gene_outside_universe``.

    Raises:
        InputFormatError: wrong header or encoding, a row without 11 fields, an invalid gene id,
            a blank/NaN/non-numeric ε or p-value, a p-value outside [0, 1].
    """
    path = Path(path)
    qc = qc if qc is not None else QCReport(path)
    genes = GeneChecker(universe, unknown_genes)
    started = time.perf_counter()
    blocks: list[pd.DataFrame] = []
    for frame, lines in iter_tsv_blocks(path, COSTANZO_SGA_COLUMNS,
                                        usecols=[_QUERY, _ARRAY, _EPS, _P]):
        qc.count("rows_read", len(frame))
        blocks.append(_sga_block(frame, lines, path, genes, qc))
    result = pd.concat(blocks, ignore_index=True) if blocks else empty_measurements()
    log.info("%s: %s rows read, %s kept in %.1f s", path, f"{qc.counts['rows_read']:,}",
             f"{len(result):,}", time.perf_counter() - started)
    return result


def write_costanzo_sga(rows: pd.DataFrame, path: PathLike) -> None:
    """Write rows in the ``SGA_*.txt`` layout (inverse of :func:`read_costanzo_sga`).

    Args:
        rows: a frame with the 11 :data:`COSTANZO_SGA_COLUMNS`; floats are written with
            ``repr`` (exact round trip), NaN/None as an empty field, strings verbatim.
        path: output file (UTF-8, ``\\n`` line ends), replaced atomically.
    """
    write_tsv_table(rows, COSTANZO_SGA_COLUMNS, path, encoding="utf-8")


def read_dcell_pairs(
    path: PathLike,
    universe: set[str] | None = None,
    unknown_genes: str = "drop",
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read a DCell training/testing file (``<n> <ORF_1> … <ORF_n> <epsilon>``).

    The format has no p-value, so ``p_value`` is NaN for every row. NaN means "not published";
    :func:`~geneint.data.canonical.resolve_duplicates` ranks it after every real p-value
    (``most_significant``) and ignores it in the minimum (``mean``).

    Args:
        path: the space-separated file, no header; ``n`` must be 2 or 3.
        universe: genes to keep; ``None`` keeps every valid ORF.
        unknown_genes: ``"drop"`` or ``"error"`` for valid ORFs outside ``universe``.
        qc: report to add counts to (a new one when ``None``).

    Returns:
        Measurement rows, ``source`` = ``"costanzo2016_dcell"``. Counts: ``rows_read``,
        ``rows_kept``, ``rows_same_gene`` (a gene listed twice), ``rows_gene_outside_universe``.

    Raises:
        InputFormatError: a gene count other than 2/3 or disagreeing with the fields, an
            invalid gene id, a non-numeric or non-finite score, a blank line before data.
    """
    path = Path(path)
    qc = qc if qc is not None else QCReport(path)
    check_unknown_genes_policy(unknown_genes)
    sets: list[list[str]] = []
    scores: list[float] = []
    blank_at: int | None = None
    for lineno, line in iter_lines(path):
        fields = line.split()
        if not fields:
            blank_at = blank_at or lineno
            continue
        if blank_at is not None:
            raise InputFormatError(path, blank_at,
                                   f"blank line inside the file (data follows on line {lineno})")
        qc.count("rows_read")
        try:
            n_genes = int(fields[0])
        except ValueError:
            n_genes = -1
        if n_genes not in DCELL_ARITIES:
            raise InputFormatError(path, lineno, f"first field must be the gene count "
                                                 f"{DCELL_ARITIES}, found {fields[0]!r}")
        if len(fields) != n_genes + 2:
            raise InputFormatError(path, lineno, f"expected {n_genes + 2} space-separated fields "
                                                 f"for {n_genes} genes, found {len(fields)}: "
                                                 f"{line[:200]!r}")
        names = fields[1:-1]
        for name in names:
            if not is_orf(name):
                raise InputFormatError(path, lineno, f"unknown gene {name!r}")
        try:
            score = float(fields[-1])
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise InputFormatError(path, lineno, f"score: expected a finite number, found "
                                                 f"{fields[-1]!r}")
        example = f"line {lineno}: {line.strip()}"
        if len(set(names)) < len(names):
            qc.count("rows_same_gene", example=example)
            continue
        outside = [n for n in names if universe is not None and n not in universe]
        if outside:
            if unknown_genes == "error":
                raise InputFormatError(path, lineno, f"gene {outside[0]!r} is not in the gene "
                                                     "universe (unknown_genes='error')")
            qc.count("rows_gene_outside_universe", example=example)
            continue
        sets.append(names)
        scores.append(score)
    if not sets:
        frame = empty_measurements()
    else:
        frame = gene_set_frame(sets)
        frame["tau"] = np.asarray(scores, dtype=np.float64)
        frame["p_value"] = np.full(len(frame), np.nan)
        frame["source"] = pd.Series(["costanzo2016_dcell"] * len(frame), dtype=str)
    qc.count("rows_kept", len(frame))
    log.info("%s: %s rows read, %s kept", path, f"{qc.counts['rows_read']:,}", f"{len(frame):,}")
    return frame[MEASUREMENT_COLUMNS]
