"""Reader for the DANGO/Mashup per-channel STRING networks.

DANGO ships its STRING v9.1 channels as ``yeast_string_genes.txt`` and one
``yeast_string_<channel>_adjacency.txt`` per channel. The genes file lists one systematic ORF
per line (line i, 1-based, is node id i; the last line may lack its newline). An adjacency file
is a tab-separated edge list ``id1<TAB>id2<TAB>weight`` of 1-based ids into that gene list, with
weight = STRING score / 1000 printed with six decimals; both directions of every pair are listed
and only non-zero scores are present.

The readers return the canonical edge table of :func:`geneint.data.string.read_string_links`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.canonical import STRING_CHANNELS
from geneint.data.files import InputFormatError, PathLike, QCReport, is_orf, iter_lines
from geneint.data.string import INTEGER, edge_table, merge_directions

log = logging.getLogger(__name__)


def read_dango_network(
    genes_path: PathLike,
    adjacency_path: PathLike,
    channel: str,
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read one channel of the DANGO/Mashup STRING networks into the canonical edge table.

    Args:
        genes_path: ``yeast_string_genes.txt``: one ORF per line, line i (1-based) = node id i.
        adjacency_path: ``yeast_string_<channel>_adjacency.txt``: ``id1<TAB>id2<TAB>weight``,
            1-based ids, weight in (0, 1], both directions listed.
        channel: Channel name written into the ``channel`` column.
        qc: Report to count into (``rows_read``, ``self_loops``, ``pairs_listed_once``,
            ``edges_<channel>``, ``info["genes"]``); a local one when ``None``.

    Returns:
        The canonical edge table (see :func:`read_string_links`) for ``channel``.

    Raises:
        InputFormatError: Invalid or duplicate ORF in the genes file; a malformed adjacency
            line, id outside 1..n, non-numeric/NaN weight or weight outside (0, 1]; a pair
            whose two directions disagree or that is listed twice in one direction.
    """
    genes_path, adjacency_path = Path(genes_path), Path(adjacency_path)
    qc = qc if qc is not None else QCReport([genes_path, adjacency_path])
    genes = read_dango_genes(genes_path)
    n_genes = len(genes)

    code_a, code_b, weights, line_of, texts = [], [], [], [], []
    for lineno, line in iter_lines(adjacency_path):
        fields = line.split("\t")
        if len(fields) != 3:
            raise InputFormatError(adjacency_path, lineno,
                                   f"expected 3 tab-separated fields id1, id2, weight; found "
                                   f"{len(fields)}: {line!r}")
        ids = []
        for field in fields[:2]:
            if not INTEGER.match(field):
                raise InputFormatError(adjacency_path, lineno,
                                       f"node id {field!r} is not an integer: {line!r}")
            node = int(field)
            if not 1 <= node <= n_genes:
                raise InputFormatError(adjacency_path, lineno,
                                       f"node id {node} outside 1..{n_genes} (the lines of "
                                       f"{genes_path.name}): {line!r}")
            ids.append(node - 1)
        try:
            weight = float(fields[2])
        except ValueError:
            raise InputFormatError(adjacency_path, lineno,
                                   f"weight {fields[2]!r} is not a number: {line!r}") from None
        if math.isnan(weight):
            raise InputFormatError(adjacency_path, lineno, f"weight is NaN: {line!r}")
        if not 0 < weight <= 1:
            raise InputFormatError(adjacency_path, lineno,
                                   f"weight {weight:g} outside (0, 1]: {line!r}")
        code_a.append(ids[0])
        code_b.append(ids[1])
        weights.append(weight)
        line_of.append(lineno)
        texts.append(line)

    qc.count("rows_read", len(weights))
    # Codes index the genes sorted by name, so that lo < hi means gene_a < gene_b.
    order = np.argsort(np.array(genes, dtype=object), kind="stable")
    rank = np.empty(n_genes, dtype=np.int64)
    rank[order] = np.arange(n_genes)
    sorted_genes = np.array(genes, dtype=object)[order]
    a = rank[np.array(code_a, dtype=np.int64)]
    b = rank[np.array(code_b, dtype=np.int64)]
    w = np.array(weights, dtype=np.float64).reshape(-1, 1)
    lines = np.array(line_of, dtype=np.int64)

    self_loop = a == b
    if self_loop.any():
        rows = np.flatnonzero(self_loop)
        qc.count("self_loops", len(rows))
        for i in rows[: QCReport.max_examples]:
            qc.count("self_loops", 0, example=f"line {lines[i]}: {texts[i]}")
    rows = np.flatnonzero(~self_loop)
    lo, hi, values = merge_directions(
        adjacency_path, a[rows], b[rows], w[rows], lines[rows], [channel], sorted_genes, qc,
        describe=lambda i: texts[rows[i]],
    )
    edges = edge_table(sorted_genes, lo, hi, values, [channel], qc)
    log.info("%s: %s %s edges between %s genes", adjacency_path, f"{len(edges):,}", channel,
             f"{qc.info['genes']:,}")
    return edges


def read_dango_genes(path: PathLike) -> list[str]:
    """DANGO's ``yeast_string_genes.txt``: one systematic name per line (line i = node id i)."""
    path = Path(path)
    genes: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in iter_lines(path):
        if not is_orf(line):
            raise InputFormatError(path, lineno,
                                   f"{line!r} is not a systematic yeast gene name (ORF)")
        if line in seen:
            raise InputFormatError(path, lineno, f"duplicate gene {line!r} (first on line "
                                   f"{seen[line]})")
        seen[line] = lineno
        genes.append(line)
    return genes


def read_dango_networks(genes_path: PathLike, adjacency_paths: dict[str, PathLike],
                        qc: QCReport | None = None) -> pd.DataFrame:
    """Every given channel of the DANGO networks as one canonical edge table (the shape of a
    parsed STRING release). ``adjacency_paths`` maps channel name → adjacency file."""
    unknown = sorted(set(adjacency_paths) - set(STRING_CHANNELS))
    if unknown:
        raise ValueError(f"unknown channels {unknown}; DANGO's are {list(STRING_CHANNELS)}")
    if not adjacency_paths:
        raise ValueError("give at least one channel's adjacency file")
    qc = qc if qc is not None else QCReport([genes_path, *adjacency_paths.values()])
    tables = []
    for channel, path in adjacency_paths.items():
        channel_qc = QCReport([genes_path, path])
        tables.append(read_dango_network(genes_path, path, channel, qc=channel_qc))
        qc.merge(channel_qc, prefix=f"{channel}/")
    edges = pd.concat(tables, ignore_index=True)
    qc.info["channels"] = list(adjacency_paths)
    return edges
