"""The canonical gene–gene network table shared by BioGRID, the regulatory network and TFLink.

``data/processed/<run>/networks/<source>.parquet`` — one row per edge of one network:

==========  =======  =================================================================
column      dtype    meaning
==========  =======  =================================================================
gene_a      str      systematic name; the source (TF) of a directed edge
gene_b      str      systematic name; the target of a directed edge
network     str      lowercase network name, e.g. one of :data:`NETWORK_NAMES`
weight      float32  edge weight in (0, 1] (1.0 for unweighted sources)
directed    bool     ``True``: ``gene_a → gene_b``; ``False``: undirected with
                     ``gene_a < gene_b``
==========  =======  =================================================================

Every network is either wholly directed or wholly undirected; no self loops; no duplicate
``(gene_a, gene_b, network)`` row (``A → B`` and ``B → A`` are two edges of a directed network).
Rows are sorted by ``(network, gene_a, gene_b)``.

Every reader ends through :func:`finish_edges` (self loops dropped, undirected pairs sorted,
repeated rows merged with the maximum weight, all counted in QC) and may use the shared helpers
:func:`keep_known_genes` (the gene universe filter) and :func:`map_gene_names` (standard names
→ systematic names through ``SGD_features.tab``, see :func:`standard_name_map`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    is_orf,
    require_columns,
    write_parquet_atomic,
)

NETWORK_COLUMNS = ["gene_a", "gene_b", "network", "weight", "directed"]
#: Networks the pipeline knows; validation accepts any lowercase name (:data:`NETWORK_NAME`).
NETWORK_NAMES: tuple[str, ...] = ("physical", "genetic", "regulatory", "tflink")
NETWORK_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------------------------
# Helpers shared by the readers
# --------------------------------------------------------------------------------------------


def standard_name_map(sgd_features: pd.DataFrame) -> dict[str, str]:
    """Upper-cased standard name → systematic name, from :func:`~.genes.read_sgd_features`.

    Genes without a standard name are left out (their systematic name maps to itself anyway).
    """
    named = sgd_features[sgd_features["standard_name"].astype(str) != ""]
    return dict(zip(named["standard_name"].str.upper(), named["gene"], strict=True))


def map_gene_names(
    names: Iterable[str], sgd_names: Mapping[str, str] | None, protein_suffix: bool = False
) -> np.ndarray:
    """Systematic name of each gene name (object array, ``None`` where unmapped).

    Matching is case-insensitive: a name that upper-cases to an ORF (``YKL112w``) is that ORF;
    otherwise it is looked up among the standard names of ``sgd_names`` (``Abf1`` → ``ABF1``).
    With ``protein_suffix``, a protein name ``Abf1p`` falls back to the gene ``ABF1``.
    """
    names = np.asarray(list(names) if not isinstance(names, np.ndarray) else names, dtype=object)
    lookup = {k.upper(): v for k, v in (sgd_names or {}).items()}
    unique, inverse = np.unique(names.astype(str), return_inverse=True)
    mapped = np.empty(len(unique), dtype=object)
    for k, name in enumerate(unique.tolist()):
        upper = name.strip().upper()
        if is_orf(upper):
            mapped[k] = upper
        elif upper in lookup:
            mapped[k] = lookup[upper]
        elif protein_suffix and upper.endswith("P") and upper[:-1] in lookup:
            mapped[k] = lookup[upper[:-1]]
        else:
            mapped[k] = None
    return mapped[inverse.reshape(-1)] if len(names) else np.array([], dtype=object)


def count_unmapped(a_names: np.ndarray, b_names: np.ndarray, a: np.ndarray, b: np.ndarray,
                   qc: QCReport) -> np.ndarray:
    """Count rows with a name :func:`map_gene_names` could not map; return the rows to keep."""
    a_bad = np.array([x is None for x in a], dtype=bool)
    b_bad = np.array([x is None for x in b], dtype=bool)
    bad = a_bad | b_bad
    if bad.any():
        distinct = sorted(set(a_names[a_bad].tolist()) | set(b_names[b_bad].tolist()))
        qc.count("rows_unmapped_name", int(bad.sum()))
        for name in distinct[: QCReport.max_examples]:  # n=0: examples only
            qc.count("rows_unmapped_name", 0, example=name)
        qc.info["unmapped_names_distinct"] = len(distinct)
    return ~bad


def keep_known_genes(frame: pd.DataFrame, genes: Collection[str] | None,
                     qc: QCReport) -> pd.DataFrame:
    """Drop (and count as ``genes_outside_universe``) rows naming a gene not in ``genes``."""
    if genes is None or frame.empty:
        return frame
    universe = genes if isinstance(genes, set | frozenset) else set(genes)
    in_a = frame["gene_a"].isin(universe).to_numpy()
    in_b = frame["gene_b"].isin(universe).to_numpy()
    outside = ~(in_a & in_b)
    if outside.any():
        names = sorted(set(frame["gene_a"][~in_a]) | set(frame["gene_b"][~in_b]))
        qc.count("genes_outside_universe", int(outside.sum()))
        for name in names[: QCReport.max_examples]:
            qc.count("genes_outside_universe", 0, example=name)
        qc.info["genes_outside_universe_distinct"] = len(names)
    return frame[~outside]


def tf_target_edges(tf_names: np.ndarray, target_names: np.ndarray,
                    sgd_names: Mapping[str, str] | None, genes: Collection[str] | None,
                    network: str, qc: QCReport, protein_suffix: bool = False) -> pd.DataFrame:
    """Directed TF → target edges from names: mapped to systematic names (unmapped counted),
    restricted to ``genes``, finished by :func:`finish_edges`."""
    tf = map_gene_names(tf_names, sgd_names, protein_suffix=protein_suffix)
    target = map_gene_names(target_names, sgd_names)
    keep = count_unmapped(tf_names, target_names, tf, target, qc)
    rows = keep_known_genes(pd.DataFrame({"gene_a": tf[keep], "gene_b": target[keep]}),
                            genes, qc)
    edges = finish_edges(rows, network, directed=True, qc=qc)
    qc.info["transcription_factors"] = int(edges["gene_a"].nunique())
    return edges


def finish_edges(frame: pd.DataFrame, network: str, directed: bool,
                 qc: QCReport) -> pd.DataFrame:
    """Turn raw ``gene_a, gene_b[, weight]`` rows of one network into canonical rows.

    Self loops are dropped (QC ``self_loops``), undirected pairs sorted so that
    ``gene_a < gene_b``, and rows of the same edge merged into one with the largest weight
    (QC ``duplicate_edges_merged`` = rows merged away). QC ``edges_<network>`` = edges kept.
    """
    _check_network_name(network)
    a = frame["gene_a"].to_numpy(dtype=object)
    b = frame["gene_b"].to_numpy(dtype=object)
    weight = (frame["weight"].to_numpy(dtype=np.float64) if "weight" in frame
              else np.ones(len(frame)))
    loop = a == b
    if loop.any():
        qc.count("self_loops", int(loop.sum()))
        for gene in sorted(set(a[loop]))[: QCReport.max_examples]:
            qc.count("self_loops", 0, example=f"{network}: {gene}")
        a, b, weight = a[~loop], b[~loop], weight[~loop]
    if not directed:
        swap = a > b
        a, b = np.where(swap, b, a), np.where(swap, a, b)
    edges = pd.DataFrame({"gene_a": a, "gene_b": b, "weight": weight})
    edges = edges.groupby(["gene_a", "gene_b"], sort=True, as_index=False)["weight"].max()
    merged = len(a) - len(edges)
    if merged:
        qc.count("duplicate_edges_merged", merged)
    qc.count(f"edges_{network}", len(edges))
    return pd.DataFrame({
        "gene_a": pd.Series(edges["gene_a"].to_numpy(), dtype=object),
        "gene_b": pd.Series(edges["gene_b"].to_numpy(), dtype=object),
        "network": pd.Series(np.full(len(edges), network, dtype=object), dtype=object),
        "weight": pd.Series(edges["weight"].to_numpy(), dtype=np.float32),
        "directed": pd.Series(np.full(len(edges), directed), dtype=bool),
    })[NETWORK_COLUMNS]


def empty_network_table() -> pd.DataFrame:
    """A canonical table with no rows."""
    return pd.DataFrame({
        "gene_a": pd.Series([], dtype=object), "gene_b": pd.Series([], dtype=object),
        "network": pd.Series([], dtype=object), "weight": pd.Series([], dtype=np.float32),
        "directed": pd.Series([], dtype=bool),
    })


def concat_networks(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack canonical tables, sorted by ``(network, gene_a, gene_b)``."""
    parts = [f[NETWORK_COLUMNS] for f in frames if len(f)]
    if not parts:
        return empty_network_table()
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["network", "gene_a", "gene_b"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The table's one writer and one reader
# --------------------------------------------------------------------------------------------


def write_network_table(frame: pd.DataFrame, path: PathLike) -> None:
    """Validate and write a canonical network table (atomically, as Parquet)."""
    validate_network_table(frame, path)
    out = frame[NETWORK_COLUMNS].reset_index(drop=True)
    out = out.astype({"weight": np.float32, "directed": bool})
    write_parquet_atomic(out, path)


def read_network_table(path: PathLike) -> pd.DataFrame:
    """Read a table written by :func:`write_network_table` and check it is canonical."""
    frame = pd.read_parquet(path)
    validate_network_table(frame, path)
    for column in ("gene_a", "gene_b", "network"):
        frame[column] = frame[column].astype(object)
    return frame


def validate_network_table(frame: pd.DataFrame, path: PathLike) -> None:
    """Raise :class:`InputFormatError` naming ``path`` and the first offending row."""
    require_columns(frame, NETWORK_COLUMNS, path)
    if not pd.api.types.is_bool_dtype(frame["directed"].dtype):
        raise InputFormatError(path, 0, f"column directed must be bool, found "
                                        f"{frame['directed'].dtype}")
    if not len(frame):
        return
    a = frame["gene_a"].to_numpy(dtype=object)
    b = frame["gene_b"].to_numpy(dtype=object)
    network = frame["network"].to_numpy(dtype=object)
    directed = frame["directed"].to_numpy(dtype=bool)
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=np.float64)

    def is_text(values: np.ndarray) -> np.ndarray:
        return np.array([isinstance(v, str) and v != "" for v in values], dtype=bool)

    names = pd.unique(network)
    bad_names = {n for n in names if not (isinstance(n, str) and NETWORK_NAME.match(n))}
    mixed = set(pd.Series(directed).groupby(network).nunique().loc[lambda s: s > 1].index)
    dup = frame.duplicated(["gene_a", "gene_b", "network"]).to_numpy()
    checks = [
        (np.isin(network, list(bad_names)), "network name must be lowercase letters, digits "
         "and '_' (e.g. physical)"),
        (~(is_text(a) & is_text(b)), "gene_a and gene_b must be non-empty strings"),
        (a == b, "self loop"),
        (~directed & ~(a.astype(str) < b.astype(str)),
         "undirected edge must have gene_a < gene_b"),
        (~((weight > 0) & (weight <= 1)), "weight must lie in (0, 1]"),
        (np.isin(network, list(mixed)), "network mixes directed and undirected rows"),
        (dup, "duplicate (gene_a, gene_b, network) row"),
    ]
    offences = [(int(np.flatnonzero(mask)[0]), problem) for mask, problem in checks
                if mask.any()]
    if offences:
        row, problem = min(offences, key=lambda o: o[0])
        values = frame.iloc[row][NETWORK_COLUMNS].tolist()
        raise InputFormatError(path, 0, f"row {row} {values}: {problem}")


def _check_network_name(network: str) -> None:
    if not NETWORK_NAME.match(network):
        raise ValueError(f"network name {network!r} must be lowercase letters, digits and '_'")
