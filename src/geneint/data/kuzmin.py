"""Readers and writers for the Kuzmin et al. trigenic interaction tables.

* Kuzmin 2018 (*Science* 360:eaao1729), Data S1 — ``aao1729_data_s1.tsv``: tab-separated, one
  header line, 12 columns, 501,510 data rows; distributed as UTF-8 (with or without BOM) and as
  UTF-16 with BOM.
* Kuzmin 2020 (*Science* 368:eaaz5667), Tables S1 and S3 — ``aaz5667-Table-S1.xlsx``: one title
  row above the same 12-column header (columns 11–12 renamed), ~795k data rows in S1.

Both encode gene sets in strain ids: the query strain ``<ORF1>+<ORF2>_tm<N>`` (``YDL227C``, the
``hoΔ`` marker, stands in for "no second gene") and the array strain ``<ORF>_<dma|tsa|…><N>``.
A row's gene set is {ORF1, ORF2, array ORF} without the HO marker; its size is the row's arity.

The readers return *measurement rows* (one per kept raw row, no deduplication) with the columns
``gene_a, gene_b, gene_c, arity, tau, p_value, source``;
:func:`geneint.data.interactions.build_interactions` merges duplicates. Every filtered row is
counted in the :class:`~geneint.data.files.QCReport`, every malformed row raises
:class:`~geneint.data.files.InputFormatError` naming file, line and value.
"""

from __future__ import annotations

import logging
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.canonical import gene_set_frame
from geneint.data.files import (
    HO_MARKER,
    InputFormatError,
    PathLike,
    QCReport,
    atomic_output,
)
from geneint.data.published_tsv import (
    BLOCK_ROWS,
    MEASUREMENT_COLUMNS,
    FirstProblem,
    GeneChecker,
    count_rows,
    empty_measurements,
    header_problem,
    iter_tsv_blocks,
    parse_numbers,
    select_columns,
    show_value,
    strain_gene,
    to_text,
    write_tsv_table,
)

log = logging.getLogger(__name__)

KUZMIN2018_COLUMNS: list[str] = [
    "Query strain ID",
    "Query allele name",
    "Array strain ID",
    "Array allele name",
    "Combined mutant type",
    "Raw genetic interaction score (epsilon)",
    "Adjusted genetic interaction score (epsilon or tau)",
    "P-value",
    "Query single/double mutant fitness",
    "Array single mutant fitness",
    "Combined mutant fitness",
    "Combined mutant fitness standard deviation",
]

KUZMIN2020_COLUMNS: list[str] = KUZMIN2018_COLUMNS[:10] + [
    "Double/triple mutant fitness",
    "Double/triple mutant fitness standard deviation",
]

#: Column positions (0-based) shared by both Kuzmin tables.
_QUERY, _ARRAY, _TYPE, _TAU, _P = 0, 2, 4, 6, 7

#: ``Combined mutant type`` values and the arity each one implies.
MUTANT_TYPES: dict[str, int] = {"digenic": 2, "trigenic": 3}



# --------------------------------------------------------------------------------------------
# Kuzmin rows -> measurement rows
# --------------------------------------------------------------------------------------------


def _kuzmin_block(
    cols: dict[int, pd.Series],
    lines: np.ndarray,
    path: Path,
    genes: GeneChecker,
    qc: QCReport,
    source: str,
) -> pd.DataFrame:
    """Validate one block of Kuzmin rows and turn the kept ones into measurement rows."""
    query, array, ctype = to_text(cols[_QUERY]), to_text(cols[_ARRAY]), to_text(cols[_TYPE])
    problems = FirstProblem(path, lines)

    # Query strain: <ORF1>+<ORF2>_<suffix>; split on the first "_", then on "+".
    head = strain_gene(query)
    parts = head.str.partition("+")
    q1, plus, q2 = parts[0], parts[1], parts[2]
    bad_query = ((plus != "+") | q2.str.contains("+", regex=False)).to_numpy()
    problems.add(bad_query, lambda i: f"Query strain ID {query.iat[i]!r} is not "
                                      "<ORF1>+<ORF2>_<suffix> (exactly two genes)")
    ar = strain_gene(array)
    for gene_col, ids, name, skip in ((q1, query, "Query strain ID", bad_query),
                                      (q2, query, "Query strain ID", bad_query),
                                      (ar, array, "Array strain ID", None)):
        bad = genes.invalid(gene_col)
        if skip is not None:
            bad = bad & ~skip
        problems.add(bad, lambda i, g=gene_col, s=ids, n=name:
                     f"unknown gene {g.iat[i]!r} in {n} {s.iat[i]!r}")
    problems.add(~ctype.isin(list(MUTANT_TYPES)).to_numpy(),
                 lambda i: f"column 'Combined mutant type': expected one of "
                           f"{list(MUTANT_TYPES)}, found {show_value(ctype.iat[i])}")
    tau = parse_numbers(cols[_TAU], KUZMIN2018_COLUMNS[_TAU], problems)
    p_value = parse_numbers(cols[_P], KUZMIN2018_COLUMNS[_P], problems, probability=True)

    ho = [(g == HO_MARKER).to_numpy() for g in (q1, q2, ar)]
    outside = np.zeros(len(query), dtype=bool)
    for g, is_ho in zip((q1, q2, ar), ho, strict=True):
        outside |= genes.outside(g) & ~is_ho
    if genes.unknown_genes == "error":
        def describe(i: int) -> str:
            bad = [g.iat[i] for g, h in zip((q1, q2, ar), ho, strict=True)
                   if not h[i] and g.iat[i] not in genes.universe]  # type: ignore[operator]
            return f"gene {bad[0]!r} is not in the gene universe (unknown_genes='error')"
        problems.add(outside, describe)
    problems.raise_first()

    # Gene set = non-HO genes; a repeated gene means the set collapsed (degenerate).
    n_genes = 3 - (ho[0].astype(np.int8) + ho[1] + ho[2])
    q1v, q2v, arv = q1.to_numpy(), q2.to_numpy(), ar.to_numpy()
    repeated = ((~ho[0] & ~ho[1] & (q1v == q2v)) | (~ho[0] & ~ho[2] & (q1v == arv))
                | (~ho[1] & ~ho[2] & (q2v == arv)))
    degenerate = repeated | (n_genes < 2)
    expected = ctype.map(MUTANT_TYPES).to_numpy(dtype=np.int8)
    mismatch = ~degenerate & (n_genes != expected)
    dropped_outside = ~degenerate & ~mismatch & outside

    def example(i: int) -> str:
        return f"line {lines[i]}: {query.iat[i]} x {array.iat[i]} ({ctype.iat[i]})"

    count_rows(qc, "rows_degenerate_gene_set", degenerate, example)
    count_rows(qc, "rows_type_mismatch", mismatch, example)
    count_rows(qc, "rows_gene_outside_universe", dropped_outside, example)

    keep = ~(degenerate | mismatch | dropped_outside)
    idx = np.flatnonzero(keep)
    sets = [[g for g in trio if g != HO_MARKER]
            for trio in zip(q1v[idx], q2v[idx], arv[idx], strict=True)]
    frame = gene_set_frame(sets)
    frame["tau"] = tau[idx]
    frame["p_value"] = p_value[idx]
    frame["source"] = source
    frame["source"] = frame["source"].astype(str)
    n_tri = int((frame["arity"] == 3).sum())
    qc.count("rows_trigenic", n_tri)
    qc.count("rows_digenic", len(frame) - n_tri)
    qc.count("rows_kept", len(frame))
    return frame[MEASUREMENT_COLUMNS]


def _finish(blocks: list[pd.DataFrame], qc: QCReport, path: Path, started: float) -> pd.DataFrame:
    """Concatenate the kept rows of all blocks and log what was read and kept."""
    frame = pd.concat(blocks, ignore_index=True) if blocks else empty_measurements()
    log.info("%s: %s rows read, %s kept (%s digenic, %s trigenic) in %.1f s", path,
             f"{qc.counts['rows_read']:,}", f"{len(frame):,}", f"{qc.counts['rows_digenic']:,}",
             f"{qc.counts['rows_trigenic']:,}", time.perf_counter() - started)
    return frame


def read_kuzmin2018(
    path: PathLike,
    universe: set[str] | None = None,
    unknown_genes: str = "drop",
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read Kuzmin 2018 Data S1 (``aao1729_data_s1.tsv``) into measurement rows.

    Args:
        path: the TSV (optionally gzipped); UTF-8 with or without BOM, or UTF-16 with BOM.
        universe: genes to keep; a valid ORF outside it is dropped or an error (see below).
            ``None`` keeps every valid ORF.
        unknown_genes: ``"drop"`` (count in ``rows_gene_outside_universe``) or ``"error"``.
        qc: report to add counts to (a new one is made when ``None``; the caller writes it).

    Returns:
        One row per kept raw row: ``gene_a, gene_b, gene_c`` (sorted, ``""`` for pairs),
        ``arity`` (int8), ``tau`` (column 7, ε for digenic rows), ``p_value``, ``source``
        (``"kuzmin2018"``). Counts: ``rows_read``, ``rows_kept``, ``rows_digenic``,
        ``rows_trigenic``, ``rows_degenerate_gene_set``, ``rows_type_mismatch``,
        ``rows_gene_outside_universe``.

    Raises:
        InputFormatError: wrong header or encoding, a row without 12 fields, an invalid gene
            id, an unknown mutant type, a blank/NaN/non-numeric τ or p-value.
    """
    path = Path(path)
    qc = qc if qc is not None else QCReport(path)
    genes = GeneChecker(universe, unknown_genes)
    started = time.perf_counter()
    blocks = []
    for frame, lines in iter_tsv_blocks(path, KUZMIN2018_COLUMNS,
                                        usecols=[_QUERY, _ARRAY, _TYPE, _TAU, _P]):
        qc.count("rows_read", len(frame))
        cols = {c: frame[c] for c in frame.columns}
        blocks.append(_kuzmin_block(cols, lines, path, genes, qc, "kuzmin2018"))
    return _finish(blocks, qc, path, started)


def _is_blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _trim(row: tuple[Any, ...]) -> list[Any]:
    """Drop trailing empty cells (xlsx rows are padded to the sheet's width)."""
    cells = list(row)
    while cells and _is_blank_cell(cells[-1]):
        cells.pop()
    return cells


def read_kuzmin2020(
    path: PathLike,
    universe: set[str] | None = None,
    unknown_genes: str = "drop",
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read Kuzmin 2020 Table S1 or S3 (``aaz5667-Table-S1.xlsx``) into measurement rows.

    The workbook's first sheet has a title in row 1, the header (:data:`KUZMIN2020_COLUMNS`) in
    row 2 and data from row 3. It is streamed with openpyxl's read-only mode, so memory stays
    flat on the ~795k-row Table S1. Line numbers in errors are spreadsheet row numbers.

    Args:
        path: the ``.xlsx`` file (any other extension is an error).
        universe: genes to keep; ``None`` keeps every valid ORF.
        unknown_genes: ``"drop"`` or ``"error"`` for valid ORFs outside ``universe``.
        qc: report to add counts to (a new one when ``None``).

    Returns:
        Measurement rows as in :func:`read_kuzmin2018`, ``source`` = ``"kuzmin2020"``.

    Raises:
        InputFormatError: not an xlsx workbook, no title row, wrong header, a row with more
            than 12 cells, blank rows followed by data, and every row problem of
            :func:`read_kuzmin2018`.
    """
    import openpyxl  # deferred: only this reader needs it, and it is slow to import
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputFormatError(
            path, 0, f"expected an .xlsx workbook (Kuzmin 2020 Table S1/S3), got a "
                     f"{path.suffix or 'suffix-less'!s} file; the published tables are xlsx")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    qc = qc if qc is not None else QCReport(path)
    genes = GeneChecker(universe, unknown_genes)
    started = time.perf_counter()
    n_cols = len(KUZMIN2020_COLUMNS)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise InputFormatError(path, 0, f"not a readable xlsx workbook ({exc})") from exc
    blocks: list[pd.DataFrame] = []
    try:
        sheet = workbook.worksheets[0]
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        title = next(rows, None)
        if title is None:
            raise InputFormatError(path, 1, "empty sheet; expected a title row and the header")
        if _trim(title[1])[:1] == KUZMIN2020_COLUMNS[:1]:
            raise InputFormatError(path, 1, "found the header on row 1; expected a title row "
                                            "above it (header on row 2)")
        header = next(rows, None)
        found = _trim(header[1]) if header is not None else []
        if found != KUZMIN2020_COLUMNS:
            raise InputFormatError(path, 2, header_problem(KUZMIN2020_COLUMNS, found))

        buffer: list[list[Any]] = []
        numbers: list[int] = []
        blank_at: int | None = None

        def flush() -> None:
            frame = pd.DataFrame(buffer, columns=list(range(n_cols)), dtype=object)
            qc.count("rows_read", len(frame))
            cols = {c: frame[c] for c in (_QUERY, _ARRAY, _TYPE, _TAU, _P)}
            blocks.append(_kuzmin_block(cols, np.asarray(numbers, dtype=np.int64), path,
                                        genes, qc, "kuzmin2020"))
            buffer.clear()
            numbers.clear()

        for rowno, values in rows:
            cells = _trim(values)
            if not cells:
                if blank_at is None:
                    blank_at = rowno
                continue
            if blank_at is not None:
                if buffer:
                    flush()
                raise InputFormatError(path, blank_at, f"blank row inside the table (data "
                                                       f"follows on row {rowno})")
            if len(cells) > n_cols:
                if buffer:
                    flush()
                raise InputFormatError(path, rowno, f"expected {n_cols} cells, found "
                                                    f"{len(cells)}: {cells[:n_cols + 2]!r}")
            buffer.append(cells + [None] * (n_cols - len(cells)))
            numbers.append(rowno)
            if len(buffer) >= BLOCK_ROWS:
                flush()
        if buffer:
            flush()
    finally:
        workbook.close()
    return _finish(blocks, qc, path, started)


# --------------------------------------------------------------------------------------------
# Writers (fixtures, synthetic data): the exact published layouts
# --------------------------------------------------------------------------------------------


def write_kuzmin2018_tsv(rows: pd.DataFrame, path: PathLike, encoding: str = "utf-8") -> None:
    """Write rows in the layout of Kuzmin 2018 Data S1 (inverse of :func:`read_kuzmin2018`).

    Args:
        rows: a frame with (at least) the 12 :data:`KUZMIN2018_COLUMNS`. Float cells are
            written with ``repr`` (exact round trip), NaN/None as an empty field, strings
            verbatim (so a fixture can carry published text such as ``4.50E-01`` or ``NaN``).
        path: output file, replaced atomically.
        encoding: ``"utf-8"`` (no BOM), ``"utf-8-sig"`` (BOM) or ``"utf-16"`` (with BOM).
    """
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig", "utf-16",
                                                   "utf16"):
        raise ValueError(f"encoding must be utf-8, utf-8-sig or utf-16, got {encoding!r}")
    write_tsv_table(rows, KUZMIN2018_COLUMNS, path, encoding=encoding)


def write_kuzmin2020_xlsx(
    rows: pd.DataFrame,
    path: PathLike,
    title: str = "Table S1. Raw genetic interaction dataset",
) -> None:
    """Write rows in the layout of Kuzmin 2020 Table S1/S3 (inverse of :func:`read_kuzmin2020`).

    Args:
        rows: a frame with the 12 :data:`KUZMIN2020_COLUMNS`; NaN/None become blank cells.
        path: output ``.xlsx``, replaced atomically.
        title: text of the title row (row 1) above the header.
    """
    import openpyxl  # deferred, see read_kuzmin2020

    table = select_columns(rows, KUZMIN2020_COLUMNS).astype(object)
    table = table.where(table.notna(), None)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append([title])
    sheet.append(KUZMIN2020_COLUMNS)
    for values in table.itertuples(index=False, name=None):
        sheet.append([v.item() if isinstance(v, np.generic) else v for v in values])
    with atomic_output(path) as tmp:
        workbook.save(tmp)
