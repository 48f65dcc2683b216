"""Block-wise parsing of tab-separated published tables, shared by every TSV reader.

:func:`iter_tsv_blocks` reads a table through :func:`geneint.data.files.iter_lines` (so encoding and
gzip errors carry line numbers), checks the header and field counts, and hands out blocks of rows
as DataFrames with their line numbers; :class:`FirstProblem`, :func:`parse_numbers` and
:class:`GeneChecker` turn vectorised checks into errors that name the first offending line.
The writers at the end render frames in the same published layouts (fixtures, synthetic data).
"""

from __future__ import annotations

import io
import itertools
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geneint.data.canonical import gene_set_frame
from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    atomic_output,
    is_orf,
    iter_lines,
)

log = logging.getLogger(__name__)

#: Rows per block: big enough for vectorised checks to pay off, small enough to stay in cache
#: and to report an error soon after reading its line.
BLOCK_ROWS = 200_000

MEASUREMENT_COLUMNS = ["gene_a", "gene_b", "gene_c", "arity", "tau", "p_value", "source"]

UNKNOWN_GENE_POLICIES = ("drop", "error")

#: Arrow strings -> pandas' default ``str`` dtype (what ``dtype=str`` gives in pandas >= 3);
#: pandas 2's is ``object``, which pyarrow converts to by default.
_STR_DTYPE = pd.Series([], dtype=str).dtype
_STR_TYPES = {pa.string(): _STR_DTYPE} \
    if isinstance(_STR_DTYPE, pd.api.extensions.ExtensionDtype) else {}




def check_unknown_genes_policy(unknown_genes: str) -> None:
    """Raise ``ValueError`` unless ``unknown_genes`` is ``"drop"`` or ``"error"``."""
    if unknown_genes not in UNKNOWN_GENE_POLICIES:
        raise ValueError(
            f"unknown_genes must be one of {UNKNOWN_GENE_POLICIES}, got {unknown_genes!r}"
        )


def empty_measurements() -> pd.DataFrame:
    """A zero-row measurement frame with the canonical columns and dtypes."""
    frame = gene_set_frame([])
    frame["tau"] = np.array([], dtype=np.float64)
    frame["p_value"] = np.array([], dtype=np.float64)
    frame["source"] = pd.Series([], dtype=str)
    return frame[MEASUREMENT_COLUMNS]


def header_problem(expected: list[str], found: list[str], raw: str | None = None) -> str:
    """Describe a header mismatch: expected vs found, with a hint for UTF-16 without a BOM."""
    problem = f"unexpected header; expected columns {expected}, found {found}"
    if raw is not None and "\x00" in raw:
        # UTF-16 without a byte-order mark decodes as UTF-8 with a NUL after every ASCII char.
        problem += (
            "; the line contains NUL characters: the file looks like UTF-16 without a "
            "byte-order mark; re-save it as UTF-8 or as UTF-16 with a BOM"
        )
    return problem


def show_value(value: Any) -> str:
    """Render a raw cell for an error message (``a blank cell`` rather than ``''``/``None``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "a blank cell"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return repr(value)


class FirstProblem:
    """Collect candidate errors of one block and raise the one on the earliest line.

    The vectorised checks run one column at a time; keeping only the earliest offending row means
    the error a user sees is the first problem in file order, whichever check found it.
    """

    def __init__(self, path: PathLike, lines: np.ndarray) -> None:
        self.path = path
        self.lines = lines
        self._best: tuple[int, Callable[[int], str]] | None = None

    def add(self, mask: Any, describe: Callable[[int], str]) -> None:
        """Register rows where ``mask`` is true; ``describe(position)`` builds the message."""
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        # Strict "<": on a tie the check registered first (the more basic one) wins.
        if len(hits) and (self._best is None or hits[0] < self._best[0]):
            self._best = (int(hits[0]), describe)

    def raise_first(self) -> None:
        """Raise :class:`InputFormatError` for the earliest registered problem, if any."""
        if self._best is not None:
            pos, describe = self._best
            raise InputFormatError(self.path, int(self.lines[pos]), describe(pos))


def _block_frame(texts: list[str], n_fields: int, usecols: list[int]) -> pd.DataFrame:
    """Split tab-separated lines (field count already checked) into string columns."""
    text = "\n".join(texts)
    if "\r" not in text:
        # pyarrow's CSV parser is ~3x faster than pandas' C parser here and yields Arrow-backed
        # strings, pandas' default ``str`` dtype. It would take a stray "\r" inside a line for
        # a line break, hence the guard; quote_char=False keeps quotes literal.
        names = [str(i) for i in range(n_fields)]
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in usecols],
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
        if table.num_rows == len(texts):
            frame = table.to_pandas(types_mapper=_STR_TYPES.get)
            frame.columns = usecols
            return frame
    rows = [line.split("\t") for line in texts]
    return pd.DataFrame(rows, columns=list(range(n_fields)), dtype=str)[usecols]


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


def iter_tsv_blocks(
    path: PathLike,
    header: list[str],
    usecols: list[int] | None = None,
    block_rows: int | None = None,
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yield ``(frame, line_numbers)`` blocks of a tab-separated file with an exact header.

    Reads through :func:`~geneint.data.files.iter_lines` (gzip, BOM/UTF-16 sniffing, decode errors
    with line numbers). Checks that line 1 equals ``header`` and that every data line has
    exactly ``len(header)`` fields. Trailing blank lines are ignored; a blank line followed by
    data is an error (it usually means two files were concatenated or a row was lost).

    Args:
        path: the file.
        header: the exact expected column names.
        usecols: 0-based positions of the columns to return (default: all); the frame's
            columns are these positions, as ``str`` dtype, empty fields as ``""``.
        block_rows: rows per yielded block (default :data:`BLOCK_ROWS`, read at call time).

    Yields:
        A frame of string columns and the 1-based file line number of each of its rows.

    Raises:
        InputFormatError: empty file, wrong header, wrong field count, misplaced blank line,
            undecodable bytes or truncated gzip (the latter two from ``iter_lines``). Rows before
            the offending line are yielded first, so errors surface in file order.
    """
    block_rows = block_rows or BLOCK_ROWS
    n_fields = len(header)
    n_tabs = n_fields - 1
    usecols = list(range(n_fields)) if usecols is None else list(usecols)
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        raise InputFormatError(path, 1, f"empty file; expected the header {header}")
    found = first[1].split("\t")
    if found != header:
        raise InputFormatError(path, 1, header_problem(header, found, first[1]))

    while True:
        chunk = list(itertools.islice(lines, block_rows))
        if not chunk:
            return
        # Comprehensions rather than zip(*chunk): unpacking 200k tuples is 20x slower.
        numbers = np.asarray([n for n, _ in chunk], dtype=np.int64)
        texts = [line for _, line in chunk]
        bad = next((i for i, line in enumerate(texts)
                    if line.count("\t") != n_tabs or _is_blank(line)), None)
        if bad is None:
            yield _block_frame(texts, n_fields, usecols), numbers
            continue
        if bad:
            yield _block_frame(texts[:bad], n_fields, usecols), numbers[:bad]
        line = texts[bad]
        if not _is_blank(line):
            raise InputFormatError(
                path, int(numbers[bad]),
                f"expected {n_fields} tab-separated fields, found {line.count(chr(9)) + 1}: "
                f"{line[:200]!r}",
            )
        # A blank line is fine only if nothing but blank lines follows it.
        for lineno, rest in itertools.chain(chunk[bad + 1:], lines):
            if not _is_blank(rest):
                raise InputFormatError(
                    path, int(numbers[bad]),
                    f"blank line inside the table (data follows on line {lineno})",
                )
        return


def parse_numbers(
    values: pd.Series,
    column: str,
    problems: FirstProblem,
    probability: bool = False,
) -> np.ndarray:
    """Convert a column to float64, registering blank/NaN/non-numeric/out-of-range cells.

    Args:
        values: raw cells (strings from a TSV, or floats/None/strings from xlsx).
        column: the published column name, for the message.
        problems: where offending rows are registered.
        probability: also require values in [0, 1] (p-values).

    Returns:
        The float64 values (meaningless where a problem was registered).
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(numbers)
    problems.add(bad, lambda i: f"column {column!r}: expected a finite number, found "
                                f"{show_value(values.iat[i])}")
    if probability:
        with np.errstate(invalid="ignore"):
            outside = (numbers < 0) | (numbers > 1)
        problems.add(outside, lambda i: f"column {column!r}: p-value {values.iat[i]!r} "
                                        "is outside [0, 1]")
    return numbers


class GeneChecker:
    """Vectorised gene-id checks with a cache of already-seen names.

    A syntactically invalid id is always an error; a valid ORF outside ``universe`` is an error
    under ``unknown_genes="error"`` and is dropped (by the caller) under ``"drop"``.
    """

    def __init__(self, universe: set[str] | None, unknown_genes: str) -> None:
        check_unknown_genes_policy(unknown_genes)
        self.universe = universe
        self.unknown_genes = unknown_genes
        self._invalid: set[str] = set()
        self._seen: set[str] = set()

    def invalid(self, genes: pd.Series) -> np.ndarray:
        """Mask of entries that are not syntactically valid systematic names."""
        for name in pd.unique(genes):
            if name not in self._seen:
                self._seen.add(name)
                if not is_orf(name):
                    self._invalid.add(name)
        if not self._invalid:
            return np.zeros(len(genes), dtype=bool)
        return genes.isin(self._invalid).to_numpy()

    def outside(self, genes: pd.Series) -> np.ndarray:
        """Mask of entries outside the universe (all false when there is no universe)."""
        if self.universe is None:
            return np.zeros(len(genes), dtype=bool)
        return (~genes.isin(self.universe)).to_numpy()


def count_rows(qc: QCReport, key: str, mask: np.ndarray,
               example: Callable[[int], str]) -> None:
    """Count the rows where ``mask`` is true under ``key``, with the first few as examples."""
    hits = np.flatnonzero(mask)
    if len(hits):
        qc.count(key, len(hits))
        for i in hits[:QCReport.max_examples]:
            qc.count(key, 0, example=example(int(i)))


def strain_gene(strain_ids: pd.Series) -> pd.Series:
    """The text before the first ``_`` of each strain id (all of it when there is none)."""
    # A regex replace runs in Arrow and is ~4x faster than str.partition, which builds 3 columns.
    return strain_ids.str.replace("_.*", "", regex=True)


def to_text(values: pd.Series) -> pd.Series:
    """Cells as ``str`` (blank cells as ``""``); xlsx cells may be None or numbers."""
    if values.dtype == object:
        values = values.map(lambda v: "" if v is None else str(v))
    return values.astype(str)


def format_cells(values: pd.Series) -> list[str]:
    """Render one column as published-style text: floats via ``repr`` (round-trippable),
    integers plainly, strings unchanged, missing values as an empty field."""

    def one(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            if "\t" in value or "\n" in value or "\r" in value:
                raise ValueError(f"cell {value!r} contains a tab or line break")
            return value
        if isinstance(value, (bool, np.bool_)):
            return str(value)
        if isinstance(value, (float, np.floating)):
            return "" if math.isnan(value) else repr(float(value))
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        return str(value)

    return [one(v) for v in values.tolist()]


def select_columns(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``rows[columns]``, raising a clear ``ValueError`` when some are missing."""
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack column(s) {missing}; expected {columns}")
    return rows[columns]


def write_tsv_table(rows: pd.DataFrame, columns: list[str], path: PathLike,
                    encoding: str = "utf-8") -> None:
    """Write ``rows[columns]`` as a tab-separated table with a header, atomically."""
    table = select_columns(rows, columns)
    cells = [format_cells(table[c]) for c in columns]
    body = ["\t".join(columns)] + ["\t".join(r) for r in zip(*cells, strict=True)]
    text = "\n".join(body) + "\n"
    with atomic_output(path) as tmp:
        # newline="" so that "\n" is written as-is on every platform.
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
