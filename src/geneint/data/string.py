"""Reader for the STRING yeast networks in their published ``protein.links.detailed`` format.

``4932.protein.links.detailed.v{9.1,11.0,12.0}.txt.gz`` (https://string-db.org downloads)
    gzip-compressed text, fields separated by a single space, one header line::

        protein1 protein2 neighborhood fusion cooccurence coexpression experimental database textmining combined_score

    (``cooccurence`` is STRING's spelling). Protein ids are ``4932.<systematic ORF>``
    (``4932.YAL001C``, mitochondrial ``4932.Q0045``); the eight scores are integers on a
    0–1000 scale (probability x 1000). Every undirected pair is listed in both directions
    (``A B`` and ``B A``) with identical scores, rows grouped by ``protein1`` with partners in
    descending ``combined_score`` order. A v12.0 file has about 2.6 M rows.

The reader of the DANGO/Mashup per-channel networks is :mod:`geneint.data.dango_networks`, the
writer of ``links.detailed`` files :mod:`geneint.data.string_writer`; both use the format
constants and the shared helpers (:func:`merge_directions`, :func:`edge_table`) defined here.

Both readers return the canonical edge table (:data:`~geneint.data.canonical.EDGE_COLUMNS`): one
row per undirected pair and channel with a non-zero score, ``gene_a < gene_b``, ``weight`` =
score / 1000 as float32, sorted by ``(channel, gene_a, gene_b)``. Malformed input raises
:class:`~geneint.data.files.InputFormatError` with the file and 1-based line; deliberate filtering
(genes outside the universe, self loops, pairs listed in one direction only) is counted in a
:class:`~geneint.data.files.QCReport`.
"""

from __future__ import annotations

import csv
import io
import logging
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.canonical import EDGE_COLUMNS, STRING_CHANNELS
from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    is_orf,
    iter_lines,
)

log = logging.getLogger(__name__)

STRING_HEADER = ["protein1", "protein2", "neighborhood", "fusion", "cooccurence", "coexpression",
                 "experimental", "database", "textmining", "combined_score"]
#: The eight integer score columns of ``links.detailed`` (the six channels, text mining, combined).
SCORE_COLUMNS = STRING_HEADER[2:]
TAXON_PREFIX = "4932."
#: STRING releases whose yeast ``links.detailed`` files share the format above.
STRING_VERSIONS = ("9.1", "11.0", "12.0")
MAX_SCORE = 1000

_UNKNOWN_GENES_MODES = ("drop", "error")
#: An optionally signed decimal integer literal (a score or node id field).
INTEGER = re.compile(r"^[+-]?[0-9]+$")


# --------------------------------------------------------------------------------------------
# links.detailed reader
# --------------------------------------------------------------------------------------------


def read_string_links(
    path: PathLike,
    channels: Iterable[str] = STRING_CHANNELS,
    universe: set[str] | None = None,
    unknown_genes: str = "drop",
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read a published ``4932.protein.links.detailed.v*.txt.gz`` into the canonical edge table.

    The whole file is validated (header, field count, ids, integer scores in 0..1000, both
    directions of a pair agreeing on the requested channels) before anything is filtered.

    Args:
        path: The STRING file (gzip or plain text; the format is detected from the bytes).
        channels: Score columns to extract; any of :data:`SCORE_COLUMNS`.
        universe: ORFs to keep; rows naming another gene are dropped (or raise, see
            ``unknown_genes``). ``None`` keeps every gene.
        unknown_genes: ``"drop"`` counts and drops rows with a gene outside ``universe``
            (QC ``genes_outside_universe``); ``"error"`` raises on the first such row.
        qc: Report to count into (``rows_read``, ``genes_outside_universe``, ``self_loops``,
            ``pairs_listed_once``, ``edges_<channel>``, ``info["genes"]``). A local one is used
            when ``None``; writing it is the caller's job.

    Returns:
        DataFrame with columns ``gene_a, gene_b, channel, weight``: one row per undirected pair
        and requested channel with a score > 0, ``gene_a < gene_b`` (ORFs without the ``4932.``
        prefix), ``channel`` as object-dtype str, ``weight`` float32 = score / 1000, sorted by
        ``(channel, gene_a, gene_b)``.

    Raises:
        InputFormatError: On any deviation from the published format, naming file and line.
        ValueError: On an unknown channel or ``unknown_genes`` mode.
    """
    path = Path(path)
    channels = _check_channels(channels)
    if unknown_genes not in _UNKNOWN_GENES_MODES:
        raise ValueError(f"unknown_genes must be one of {_UNKNOWN_GENES_MODES}, "
                         f"got {unknown_genes!r}")
    qc = qc if qc is not None else QCReport(path)

    lines = _read_links_lines(path)
    n = len(lines)
    qc.count("rows_read", n)
    log.info("%s: %s rows", path, f"{n:,}")
    # Data row i (0-based) is line i + 2: the header is line 1 and iter_lines numbers every
    # line, blank ones included (a blank line fails the field-count check below).
    line_of = np.arange(2, n + 2, dtype=np.int64)

    _check_field_counts(path, lines)
    frame = _parse_fields(lines)
    genes, code_a, code_b = _gene_codes(path, frame, lines)
    scores = _score_matrix(path, frame, lines)
    del frame

    keep = np.ones(n, dtype=bool)
    if universe is not None:
        in_universe = np.fromiter((g in universe for g in genes), dtype=bool, count=len(genes))
        outside = ~(in_universe[code_a] & in_universe[code_b])
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            gene = genes[code_a[first]] if not in_universe[code_a[first]] else genes[code_b[first]]
            if unknown_genes == "error":
                raise InputFormatError(
                    path, int(line_of[first]),
                    f"gene {gene!r} is not in the gene universe ({len(universe):,} genes): "
                    f"{lines[first]!r}",
                )
            present = np.zeros(len(genes), dtype=bool)
            present[code_a] = present[code_b] = True
            outside_genes = genes[present & ~in_universe].tolist()  # sorted, as genes is
            qc.count("genes_outside_universe", int(outside.sum()))
            # count(n=0, example=...) only records examples: the rows were counted above.
            for gene in outside_genes[: QCReport.max_examples]:
                qc.count("genes_outside_universe", 0, example=gene)
            qc.info["genes_outside_universe_distinct"] = len(outside_genes)
            log.info("%s: dropped %s rows naming %s genes outside the universe", path,
                     f"{int(outside.sum()):,}", f"{len(outside_genes):,}")
            keep &= ~outside

    self_loop = keep & (code_a == code_b)
    if self_loop.any():
        rows = np.flatnonzero(self_loop)
        qc.count("self_loops", len(rows))
        for i in rows[: QCReport.max_examples]:  # n=0: examples only, rows counted above
            qc.count("self_loops", 0, example=f"line {line_of[i]}: {lines[i]}")
        keep &= ~self_loop

    rows = np.flatnonzero(keep)
    channel_idx = [SCORE_COLUMNS.index(c) for c in channels]
    lo, hi, values = merge_directions(
        path, code_a[rows], code_b[rows], scores[rows][:, channel_idx], line_of[rows],
        channels, genes, qc, describe=lambda i: lines[rows[i]],
    )
    return edge_table(genes, lo, hi, values.astype(np.float64) / MAX_SCORE, channels, qc)


def _check_channels(channels: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(channels))
    unknown = [c for c in chosen if c not in SCORE_COLUMNS]
    if unknown or not chosen:
        raise ValueError(f"unknown STRING channel(s) {unknown}; choose from {SCORE_COLUMNS}")
    return chosen


def _read_links_lines(path: Path) -> list[str]:
    """Check the header and return the data lines (decoding errors surface from iter_lines)."""
    lines_iter = iter_lines(path)
    first = next(lines_iter, None)
    if first is None:
        raise InputFormatError(path, 1, f"empty file; expected the header {STRING_HEADER}")
    header = first[1].split(" ")
    if header != STRING_HEADER:
        missing = [c for c in STRING_HEADER if c not in header]
        extra = [c for c in header if c not in STRING_HEADER]
        raise InputFormatError(
            path, 1,
            f"wrong header: expected columns {STRING_HEADER} (single-space separated), found "
            f"{header}" + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {extra}" if extra else "")
            + ("; the NUL characters suggest UTF-16 without a byte-order mark"
               if "\x00" in first[1] else ""),
        )
    return [line for _, line in lines_iter]


def _check_field_counts(path: Path, lines: list[str]) -> None:
    spaces = np.fromiter(map(operator.methodcaller("count", " "), lines), dtype=np.int64,
                         count=len(lines))
    bad = np.flatnonzero(spaces != len(STRING_HEADER) - 1)
    if len(bad):
        i = int(bad[0])
        raise InputFormatError(
            path, i + 2,
            f"expected {len(STRING_HEADER)} single-space separated fields, found "
            f"{spaces[i] + 1}: {lines[i]!r}",
        )


def _parse_fields(lines: list[str]) -> pd.DataFrame:
    """Split the lines with pandas' C parser (field counts are already known to be right)."""
    if not lines:
        return pd.DataFrame({c: pd.Series([], dtype=np.int64) for c in STRING_HEADER})
    return _read_columns(lines, STRING_HEADER,
                         dtype={"protein1": "category", "protein2": "category"})


def _read_columns(lines: list[str], columns: list[str], dtype: object) -> pd.DataFrame:
    # na_filter=False keeps "nan"/"" as text, so a score column is integer-typed only when
    # every one of its fields is an integer literal.
    # Bytes, not StringIO: StringIO would hold a 4-byte-per-character copy of the text.
    return pd.read_csv(
        io.BytesIO("\n".join(lines).encode("utf-8")), sep=" ", header=None, names=STRING_HEADER,
        usecols=columns, dtype=dtype, na_filter=False, quoting=csv.QUOTE_NONE,
        lineterminator="\n", skip_blank_lines=False, low_memory=False, engine="c",
    )


def _gene_codes(
    path: Path, frame: pd.DataFrame, lines: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the protein ids and return (sorted ORF names, code of protein1, of protein2)."""
    if not len(frame):
        empty = np.array([], dtype=np.int64)
        return np.array([], dtype=object), empty, empty
    ids = sorted(set(frame["protein1"].cat.categories) | set(frame["protein2"].cat.categories))
    bad = [i for i in ids if not _is_string_id(i)]
    if bad:
        bad_set = set(bad)
        is_bad = frame["protein1"].isin(bad_set).to_numpy() | frame["protein2"].isin(
            bad_set).to_numpy()
        i = int(np.flatnonzero(is_bad)[0])
        protein = next(p for p in lines[i].split(" ")[:2] if p in bad_set)
        raise InputFormatError(
            path, i + 2,
            f"unknown gene {protein!r}: expected '{TAXON_PREFIX}<systematic ORF name>' "
            f"(e.g. {TAXON_PREFIX}YAL001C): {lines[i]!r}",
        )
    genes = np.array([i[len(TAXON_PREFIX):] for i in ids], dtype=object)
    codes = []
    for col in ("protein1", "protein2"):
        codes.append(pd.Categorical(frame[col], categories=ids).codes.astype(np.int64))
    return genes, codes[0], codes[1]


def _is_string_id(protein: object) -> bool:
    return (isinstance(protein, str) and protein.startswith(TAXON_PREFIX)
            and is_orf(protein[len(TAXON_PREFIX):]))


def _score_matrix(path: Path, frame: pd.DataFrame, lines: list[str]) -> np.ndarray:
    """The (n, 8) int64 score matrix, after checking every field is an integer in 0..1000."""
    not_integer = [c for c in SCORE_COLUMNS if not pd.api.types.is_integer_dtype(frame[c].dtype)]
    if not_integer:
        _raise_first_bad_score(path, lines, not_integer)
    scores = frame[SCORE_COLUMNS].to_numpy(dtype=np.int64)
    out_of_range = (scores < 0) | (scores > MAX_SCORE)
    if out_of_range.any():
        i, j = (int(x) for x in np.argwhere(out_of_range)[0])
        raise InputFormatError(
            path, i + 2,
            f"{SCORE_COLUMNS[j]} score {scores[i, j]} outside 0..{MAX_SCORE}: {lines[i]!r}",
        )
    return scores


def _raise_first_bad_score(path: Path, lines: list[str], columns: list[str]) -> None:
    """Raise on the first score field, in file order, that is not an integer in 0..1000.

    Runs only once the fast parse found score ``columns`` that are not integer-typed: they are
    parsed again as text, which keeps e.g. ``1.0`` distinguishable from ``1``.
    """
    text = _read_columns(lines, columns, dtype=str)
    offences = []  # (row, message)
    for col in columns:
        values = text[col]
        not_int = ~values.str.fullmatch(INTEGER.pattern).to_numpy(dtype=bool)
        # Only a sign or 4+ characters can put an integer literal outside 0..1000.
        maybe = np.flatnonzero(~not_int & ((values.str.len() >= 4) | values.str.startswith("-"))
                               .to_numpy(dtype=bool))
        number = pd.to_numeric(values.iloc[maybe]).to_numpy(dtype=np.float64)
        out_of_range = np.zeros(len(values), dtype=bool)
        out_of_range[maybe] = (number < 0) | (number > MAX_SCORE)
        for mask, problem in ((not_int, "is NaN or not an integer (expected an integer "
                               f"0..{MAX_SCORE})"), (out_of_range, f"outside 0..{MAX_SCORE}")):
            if mask.any():
                i = int(np.flatnonzero(mask)[0])
                offences.append((i, f"{col} score {values.iloc[i]!r} {problem}: {lines[i]!r}"))
    if not offences:
        raise InputFormatError(path, 0, f"score columns {columns} could not be parsed as integers")
    i, message = min(offences)
    raise InputFormatError(path, i + 2, message)


# --------------------------------------------------------------------------------------------
# shared: merge both directions, build the canonical table
# --------------------------------------------------------------------------------------------


def merge_directions(
    path: Path,
    code_a: np.ndarray,
    code_b: np.ndarray,
    values: np.ndarray,
    line_of: np.ndarray,
    channels: Sequence[str],
    genes: np.ndarray,
    qc: QCReport,
    describe: Callable[[int], str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse ``A B`` / ``B A`` rows into one row per undirected pair.

    Args:
        path: File the rows come from (for error messages).
        code_a, code_b: Gene codes of each row (no self loops; codes sort like the names).
        values: (rows, channels) scores of each row.
        line_of: 1-based file line of each row.
        channels: Names of the columns of ``values``.
        genes: Gene name of each code.
        qc: Receives ``pairs_listed_once``.
        describe: Row index -> text of the row, for error messages.

    Returns:
        ``(lo, hi, values)`` per pair, sorted by ``(lo, hi)``.

    Raises:
        InputFormatError: A pair listed twice in the same direction or more than twice, or
            whose two directions disagree on a channel.
    """
    lo = np.minimum(code_a, code_b)
    hi = np.maximum(code_a, code_b)
    key = lo * max(len(genes), 1) + hi
    order = np.argsort(key, kind="stable")  # stable: file order within a pair
    key_sorted = key[order]
    starts = np.flatnonzero(np.diff(key_sorted, prepend=-1) != 0)  # keys are >= 0
    sizes = np.diff(np.append(starts, len(key)))

    first = order[starts]
    twice = sizes >= 2
    second = np.full(len(starts), -1, dtype=np.int64)
    second[twice] = order[starts[twice] + 1]

    same_direction = np.zeros(len(starts), dtype=bool)
    same_direction[twice] = (code_a[first[twice]] < code_b[first[twice]]) == (
        code_a[second[twice]] < code_b[second[twice]])
    disagree = np.zeros(len(starts), dtype=bool)
    disagree[twice] = (values[first[twice]] != values[second[twice]]).any(axis=1)
    # For a pair listed 3+ times, the third row is the offending one.
    third = np.full(len(starts), -1, dtype=np.int64)
    thrice = sizes >= 3
    third[thrice] = order[starts[thrice] + 2]

    def first_offence(mask: np.ndarray, offending_row: np.ndarray) -> int:
        """The pair among ``mask`` whose offending row comes first in the file."""
        lines = np.where(mask, line_of[np.maximum(offending_row, 0)], np.iinfo(np.int64).max)
        return int(np.argmin(lines))

    problems = []  # (line, message) of the first offence of each kind
    if thrice.any():
        g = first_offence(thrice, third)
        r = third[g]
        problems.append((int(line_of[r]), f"pair listed more than twice (also on lines "
                         f"{line_of[first[g]]} and {line_of[second[g]]}): {describe(r)!r}"))
    if same_direction.any():
        g = first_offence(same_direction, second)
        r = second[g]
        problems.append((int(line_of[r]), f"duplicate row: the pair is already listed in this "
                         f"direction on line {line_of[first[g]]}: {describe(r)!r}"))
    if disagree.any():
        g = first_offence(disagree, second)
        r, f = second[g], first[g]
        diff = [f"{c} {_fmt(values[r, j])} vs {_fmt(values[f, j])}"
                for j, c in enumerate(channels) if values[r, j] != values[f, j]]
        problems.append((int(line_of[r]), f"the two directions of pair {genes[lo[r]]}-"
                         f"{genes[hi[r]]} disagree with line {line_of[f]} ({', '.join(diff)}): "
                         f"{describe(r)!r}"))
    if problems:
        line, message = min(problems)
        raise InputFormatError(path, line, message)

    once = np.flatnonzero(sizes == 1)
    if len(once):
        qc.count("pairs_listed_once", len(once))
        for g in once[: QCReport.max_examples]:
            qc.count("pairs_listed_once", 0,
                     example=f"line {line_of[first[g]]}: {describe(first[g])}")
        log.info("%s: %s pairs listed in one direction only (kept)", path, f"{len(once):,}")
    return lo[first], hi[first], values[first]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def edge_table(
    genes: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    weights: np.ndarray,
    channels: Sequence[str],
    qc: QCReport,
) -> pd.DataFrame:
    """Canonical edges from per-pair weights (pairs sorted by ``(lo, hi)``, one column each)."""
    parts_a, parts_b, parts_c, parts_w = [], [], [], []
    used = np.zeros(len(genes), dtype=bool)
    for j, channel in sorted(enumerate(channels), key=lambda jc: jc[1]):
        mask = weights[:, j] > 0
        qc.count(f"edges_{channel}", int(mask.sum()))
        used[lo[mask]] = True
        used[hi[mask]] = True
        parts_a.append(lo[mask])
        parts_b.append(hi[mask])
        parts_c.append(np.full(int(mask.sum()), channel, dtype=object))
        parts_w.append(weights[mask, j])
    qc.info["genes"] = int(used.sum())
    # Explicit object dtype: pandas >= 3 would otherwise infer its own "str" dtype.
    return pd.DataFrame({
        "gene_a": pd.Series(genes[np.concatenate(parts_a)], dtype=object),
        "gene_b": pd.Series(genes[np.concatenate(parts_b)], dtype=object),
        "channel": pd.Series(np.concatenate(parts_c), dtype=object),
        "weight": pd.Series(np.concatenate(parts_w), dtype=np.float32),
    })[EDGE_COLUMNS]
