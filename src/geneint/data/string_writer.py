"""Writer of STRING yeast ``4932.protein.links.detailed.v<version>.txt.gz`` files.

Produces the published format read by :func:`geneint.data.string.read_string_links` (header,
both directions of each pair, ``4932.`` prefixes, integer scores 0..1000), byte-for-byte
deterministic, e.g. for the synthetic data set.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.files import PathLike, atomic_output, is_orf
from geneint.data.string import (
    MAX_SCORE,
    SCORE_COLUMNS,
    STRING_HEADER,
    STRING_VERSIONS,
    TAXON_PREFIX,
)

log = logging.getLogger(__name__)

_WRITE_CHUNK = 200_000  # rows per text chunk handed to gzip


def write_string_links(scores: pd.DataFrame, path: PathLike, version: str = "12.0") -> None:
    """Write per-pair scores as a published ``4932.protein.links.detailed.v<version>.txt.gz``.

    The output is byte-for-byte deterministic (gzip mtime 0): header, both directions of each
    pair, ``4932.`` prefixes, rows grouped by ``protein1`` in sorted order and partners in
    descending ``combined_score`` order (ties by partner name). It is written to a temporary
    file beside ``path`` and renamed into place.

    Args:
        scores: One row per undirected pair: ``gene_a``, ``gene_b`` (ORFs, distinct) and the
            integer columns of :data:`SCORE_COLUMNS` (0..1000).
        path: Output file.
        version: STRING release the file imitates (one of :data:`STRING_VERSIONS`); the format
            is the same for all, only the name stored in the gzip header differs.

    Raises:
        ValueError: Missing columns, invalid ORFs, self loops, repeated pairs, or scores that
            are not integers in 0..1000.
    """
    if version not in STRING_VERSIONS:
        raise ValueError(f"unknown STRING version {version!r}; choose from {STRING_VERSIONS}")
    path = Path(path)
    missing = [c for c in ["gene_a", "gene_b", *SCORE_COLUMNS] if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lack column(s) {missing}; found {list(scores.columns)}")

    gene_a = scores["gene_a"].astype(object).to_numpy()
    gene_b = scores["gene_b"].astype(object).to_numpy()
    codes, genes = pd.factorize(np.concatenate([gene_a, gene_b]), sort=True)
    genes = np.asarray(genes, dtype=object)
    bad = [g for g in genes.tolist() if not (isinstance(g, str) and is_orf(g))]
    if bad or (codes < 0).any():
        raise ValueError(f"gene names must be systematic ORF names; found {(bad or [None])[:5]}")
    a, b = codes[: len(gene_a)], codes[len(gene_a):]
    if (a == b).any():
        raise ValueError(f"self loop {gene_a[np.flatnonzero(a == b)[0]]!r} in scores")
    key = np.minimum(a, b) * len(genes) + np.maximum(a, b)
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(f"pair {gene_a[i]}-{gene_b[i]} appears more than once in scores")
    values = _integer_scores(scores)

    protein1, protein2 = np.concatenate([a, b]), np.concatenate([b, a])
    matrix = np.concatenate([values, values])
    combined = matrix[:, SCORE_COLUMNS.index("combined_score")]
    order = np.lexsort((protein2, -combined, protein1))  # the last key sorts first
    ids = np.array([TAXON_PREFIX + g for g in genes], dtype=object)
    numbers = np.array([str(i) for i in range(MAX_SCORE + 1)], dtype=object)

    def chunks() -> Iterator[str]:
        yield " ".join(STRING_HEADER) + "\n"
        # zip + str.join over object columns is ~6x faster than DataFrame.to_csv here.
        for start in range(0, len(order), _WRITE_CHUNK):
            rows = order[start:start + _WRITE_CHUNK]
            columns = [ids[protein1[rows]].tolist(), ids[protein2[rows]].tolist()]
            columns += [numbers[matrix[rows, j]].tolist() for j in range(len(SCORE_COLUMNS))]
            yield "".join(" ".join(fields) + "\n" for fields in zip(*columns))

    _write_gzip_atomic(path, chunks(), f"{TAXON_PREFIX}protein.links.detailed.v{version}.txt")
    log.info("wrote %s rows (%s pairs) to %s", f"{len(order):,}", f"{len(scores):,}", path)


def _integer_scores(scores: pd.DataFrame) -> np.ndarray:
    values = scores[SCORE_COLUMNS].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any() or (values != np.round(values)).any():
        raise ValueError("scores must be integers (found NaN or fractional values)")
    if len(values) and (values.min() < 0 or values.max() > MAX_SCORE):
        raise ValueError(f"scores must lie in 0..{MAX_SCORE}")
    return values.astype(np.int64)


def _write_gzip_atomic(path: Path, chunks: Iterable[str], name: str) -> None:
    """Write UTF-8 text chunks into a gzip temp file beside ``path``, then rename it in place.

    Args:
        path: Final file.
        chunks: Text to write, in order.
        name: Original file name stored in the gzip header (mtime is 0, so output is
            reproducible).
    """
    # Level 4 compresses ~3x faster than gzip's default 6 for a ~5% larger file.
    with atomic_output(path) as tmp, open(tmp, "wb") as raw, gzip.GzipFile(
        filename=name, mode="wb", fileobj=raw, compresslevel=4, mtime=0
    ) as gz:
        for chunk in chunks:
            gz.write(chunk.encode("utf-8"))
