"""Per-network graphs over the shared gene index, and DANGO's λ rule.

A *network* is one STRING channel of one release, named ``string_v<release>_<channel>``
(``string_v9.1_coexpression``), or a network of another source (``physical``, ``regulatory``…,
:mod:`geneint.graphs.sets`). Its graph is a symmetric ``edge_index`` (2, E) into the gene
index with ``weight`` (STRING: channel score / 1000), plus the λ that weights the network's
zero entries in the reconstruction loss. A directed network (TF → target) is symmetrised too —
every consumer of gene–gene graphs reads them as undirected — and keeps its directions in
``direction``: +1 for an edge as published, −1 for the reverse added, 2 for a pair published
both ways (0 for undirected networks).

λ rule (DANGO, Methods; docs/dango.md §2.5): "if the decreased percentage of zeros [from the
older to the newer STRING release] is greater than 1%, we set λ = 0.1; otherwise λ = 1.0". The
percentage is not defined further in the paper; we follow TorchCell's reading: over the genes
present in both releases, |E_new \\ E_old| / (|pairs| − |E_old|), i.e. the share of the older
release's zero entries (non-edges) that the newer release turns into edges.

On real STRING files this reading does not reproduce the λ values DANGO shipped: TorchCell's
recomputation gives neighbourhood 4.6 % (λ = 0.1), while DANGO's code uses 1.0 for it. The
``dango`` λ mode uses the shipped values (:data:`DANGO_LAMBDA`) whatever the data say.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from geneint.data.canonical import STRING_CHANNELS
from geneint.data.files import InputFormatError, PathLike, QCReport, atomic_output

log = logging.getLogger(__name__)

NETWORK_PATTERN = re.compile(r"^string_v(?P<release>[0-9.]+)_(?P<channel>[a-z]+)$")
#: DANGO: λ = 0.1 when more than 1% of the older release's zeros become edges, else 1.0.
LAMBDA_THRESHOLD = 0.01
LAMBDA_LOW, LAMBDA_HIGH = 0.1, 1.0
#: The λ values hard-coded in the original DANGO code (``lambda_list``), by channel.
DANGO_LAMBDA = {"coexpression": 0.1, "experimental": 0.1, "database": 1.0, "neighborhood": 1.0,
                "fusion": 1.0, "cooccurence": 1.0}
#: How a network's λ is chosen (``lambda_mode``): the two-release rule, the config's
#: ``graphs.lambda``, DANGO's shipped values, or 1 everywhere (plain MSE, an ablation).
LAMBDA_MODES = ("rule", "config", "dango", "one")


def release_version(release: str) -> tuple[int, ...]:
    """``"11.0"`` → (11, 0): releases compare by version, not as strings or by list order."""
    try:
        return tuple(int(part) for part in release.split("."))
    except ValueError:
        raise ValueError(f"STRING release {release!r} is not a version like 11.0") from None


def network_name(release: str, channel: str) -> str:
    return f"string_v{release}_{channel}"


def parse_network_name(name: str) -> tuple[str, str]:
    """``string_v9.1_coexpression`` → (``9.1``, ``coexpression``)."""
    match = NETWORK_PATTERN.match(name)
    if not match or match["channel"] not in STRING_CHANNELS:
        raise ValueError(f"not a network name: {name!r}; expected string_v<release>_<channel> "
                         f"with channel in {STRING_CHANNELS}")
    return match["release"], match["channel"]


@dataclass
class NetworkGraph:
    """One network over the gene index.

    Attributes:
        name: ``string_v<release>_<channel>``.
        edge_index: (2, E) int64, both directions of every undirected edge, sorted by (src, dst).
        weight: (E,) float32 in (0, 1].
        num_nodes: size of the gene index.
        lam: weight of zero entries in the reconstruction loss (the λ rule).
        meta: provenance: how λ was chosen, the decreased-zero fraction, gene-index checksum.
    """

    name: str
    edge_index: Tensor
    weight: Tensor
    num_nodes: int
    lam: float
    meta: dict[str, Any] = field(default_factory=dict)
    direction: Tensor | None = None

    def __post_init__(self) -> None:
        if self.edge_index.dtype != torch.long or self.edge_index.dim() != 2 \
                or self.edge_index.size(0) != 2:
            raise ValueError(f"{self.name}: edge_index must be (2, E) int64, got "
                             f"{tuple(self.edge_index.shape)} {self.edge_index.dtype}")
        if self.weight.shape != (self.edge_index.size(1),):
            raise ValueError(f"{self.name}: weight has shape {tuple(self.weight.shape)}, "
                             f"expected ({self.edge_index.size(1)},)")
        if self.direction is not None and self.direction.shape != self.weight.shape:
            raise ValueError(f"{self.name}: direction has shape {tuple(self.direction.shape)}, "
                             f"expected {tuple(self.weight.shape)}")
        if self.edge_index.numel() and int(self.edge_index.max()) >= self.num_nodes:
            raise ValueError(f"{self.name}: edge_index refers to node "
                             f"{int(self.edge_index.max())} but there are {self.num_nodes} genes")

    @property
    def num_edges(self) -> int:
        """Undirected edges (edge_index holds each twice)."""
        return self.edge_index.size(1) // 2

    @property
    def directed(self) -> bool:
        return self.direction is not None and bool((self.direction != 0).any())

    def directed_edges(self, reverse: bool = False) -> Tensor:
        """The edges as published (source → target), or their reverses; all edges when the
        network is undirected."""
        if not self.directed:
            return self.edge_index
        keep = (self.direction == (-1 if reverse else 1)) | (self.direction == 2)
        return self.edge_index[:, keep]


def gene_index_checksum(genes: list[str]) -> str:
    """Short fingerprint of a gene index, stored with graphs to catch mismatched inputs."""
    import hashlib

    return hashlib.sha256("\n".join(genes).encode()).hexdigest()[:16]


def build_edge_index(edges: pd.DataFrame, genes: list[str],
                     qc: QCReport | None = None) -> tuple[Tensor, Tensor]:
    """Map one channel's undirected edges onto the gene index, as a symmetric edge_index.

    Edges touching a gene outside the index are dropped and counted (``edges_outside_genes``).
    """
    position = pd.Series(np.arange(len(genes)), index=pd.Index(genes))
    a = edges["gene_a"].map(position)
    b = edges["gene_b"].map(position)
    keep = a.notna() & b.notna()
    if qc is not None:
        qc.count("edges_outside_genes", int((~keep).sum()))
        qc.count("edges_kept", int(keep.sum()))
    a = a[keep].to_numpy(np.int64)
    b = b[keep].to_numpy(np.int64)
    w = edges["weight"][keep].to_numpy(np.float32)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    weight = np.concatenate([w, w])
    order = np.lexsort((dst, src))
    edge_index = torch.from_numpy(np.stack([src[order], dst[order]]))
    return edge_index, torch.from_numpy(weight[order])


def decreased_zero_fraction(old: pd.DataFrame, new: pd.DataFrame, channel: str,
                            genes: list[str] | None = None) -> dict[str, float]:
    """Share of the older release's zero entries that become edges in the newer one.

    Args:
        old, new: canonical edge tables of two releases (all channels; the genes present in
            *both* releases, in any channel, define the pairs compared).
        channel: the channel to compare.
        genes: optionally restrict further to this gene index.

    Returns:
        dict with ``fraction``, ``gained_edges``, ``old_edges``, ``zero_pairs``, ``genes``.
    """
    present_old = set(old["gene_a"]) | set(old["gene_b"])
    present_new = set(new["gene_a"]) | set(new["gene_b"])
    common = present_old & present_new
    if genes is not None:
        common &= set(genes)
    if len(common) < 2:
        raise ValueError(f"λ rule for {channel}: fewer than 2 genes present in both releases")

    def pairs(table: pd.DataFrame) -> set[tuple[str, str]]:
        sub = table[(table["channel"] == channel) & table["gene_a"].isin(common)
                    & table["gene_b"].isin(common)]
        return set(zip(sub["gene_a"], sub["gene_b"]))

    old_pairs, new_pairs = pairs(old), pairs(new)
    n = len(common)
    zero_pairs = n * (n - 1) // 2 - len(old_pairs)
    gained = len(new_pairs - old_pairs)
    return {"fraction": gained / zero_pairs if zero_pairs else 0.0, "gained_edges": gained,
            "old_edges": len(old_pairs), "zero_pairs": zero_pairs, "genes": n}


def lambda_from_fraction(fraction: float) -> float:
    return LAMBDA_LOW if fraction > LAMBDA_THRESHOLD else LAMBDA_HIGH


def write_graph(graph: NetworkGraph, path: PathLike) -> None:
    """Write a graph as ``.npz`` (atomic): edge_index, weight, num_nodes, lam, meta (JSON)."""
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        direction = graph.direction if graph.direction is not None \
            else torch.zeros_like(graph.weight, dtype=torch.int8)
        np.savez(fh, edge_index=graph.edge_index.numpy(), weight=graph.weight.numpy(),
                 num_nodes=np.int64(graph.num_nodes), lam=np.float64(graph.lam),
                 name=np.str_(graph.name), meta=np.str_(json.dumps(graph.meta)),
                 direction=direction.numpy())


def read_graph(path: PathLike, genes: list[str] | None = None) -> NetworkGraph:
    """Read a graph written by :func:`write_graph`; with ``genes``, check it was built on them."""
    try:
        with np.load(path, allow_pickle=False) as data:
            graph = NetworkGraph(
                name=str(data["name"]), edge_index=torch.from_numpy(data["edge_index"]),
                weight=torch.from_numpy(data["weight"]), num_nodes=int(data["num_nodes"]),
                lam=float(data["lam"]), meta=json.loads(str(data["meta"])),
                direction=torch.from_numpy(data["direction"]) if "direction" in data else None,
            )
    except (KeyError, ValueError, OSError) as exc:
        raise InputFormatError(path, 0, f"not a geneint graph file: {exc}") from exc
    if genes is not None:
        expected = gene_index_checksum(genes)
        if graph.meta.get("genes_checksum") != expected or graph.num_nodes != len(genes):
            raise InputFormatError(path, 0, "graph was built on a different gene index; "
                                            "rebuild it from the current genes.tsv")
    return graph



def choose_lambda(release: str, channel: str, releases: list[str],
                  edges_by_release: dict[str, pd.DataFrame], genes: list[str],
                  configured: dict[str, float] | None) -> tuple[float, dict[str, Any]]:
    """λ of one network: computed from two releases when possible, else from the config.

    The network's release is compared with the next newer configured release (as DANGO compares
    v9.1 with v11.0 to weight the v9.1 networks); the newest release is compared with the one
    before it. Releases are ordered by version, whatever the order they are listed in. With a
    single release, the config must give λ for the channel: there is no silent default.
    """
    order = sorted(releases, key=release_version)
    i = order.index(release)
    if len(order) > 1:
        old, new = (order[i], order[i + 1]) if i + 1 < len(order) else (order[i - 1], order[i])
        stats = decreased_zero_fraction(edges_by_release[old], edges_by_release[new], channel,
                                        genes)
        lam = lambda_from_fraction(stats["fraction"])
        log.info("λ(%s, %s) = %s: %.3f%% of v%s zeros are v%s edges", release, channel, lam,
                 100 * stats["fraction"], old, new)
        return lam, {"lambda_source": f"computed v{old}->v{new}", **stats}
    if not configured or channel not in configured:
        raise ValueError(
            f"λ for {channel}: only one STRING release ({release}) is configured, so λ cannot be "
            "computed; give graphs.lambda.<channel> in the config (DANGO's values: 0.1 for "
            "coexpression and experimental, 1.0 otherwise) or configure two releases"
        )
    return float(configured[channel]), {"lambda_source": "config"}


def build_network_graph(name: str, releases: list[str], edges_by_release: dict[str, pd.DataFrame],
                        genes: list[str], configured_lambda: dict[str, float] | None = None,
                        lambda_mode: str = "rule", qc: QCReport | None = None) -> NetworkGraph:
    """Build one network's graph over ``genes`` from the canonical STRING edge tables.

    Args:
        name: ``string_v<release>_<channel>``; the release must be among ``releases``.
        releases: configured releases (any order: they are sorted by version).
        edges_by_release: canonical edge tables (all channels) keyed by release.
        genes: the gene index.
        configured_lambda: λ per channel from the config (used when ``lambda_mode`` is
            ``config``, or when only one release is configured).
        lambda_mode: ``rule`` (the λ rule from data, falling back to config with one release),
            ``config`` (always the configured values), ``dango`` (the values DANGO's code
            ships, :data:`DANGO_LAMBDA`) or ``one`` (λ = 1: plain MSE, an ablation).
    """
    release, channel = parse_network_name(name)
    if release not in edges_by_release:
        known = sorted(edges_by_release)
        raise ValueError(f"{name}: STRING release {release} is not among {known}")
    qc = qc if qc is not None else QCReport([])
    table = edges_by_release[release]
    edge_index, weight = build_edge_index(table[table["channel"] == channel], genes, qc)
    if lambda_mode == "rule":
        lam, lam_meta = choose_lambda(release, channel, releases, edges_by_release, genes,
                                      configured_lambda)
    elif lambda_mode == "config":
        lam, lam_meta = choose_lambda(release, channel, [release], edges_by_release, genes,
                                      configured_lambda)
    elif lambda_mode == "dango":
        lam, lam_meta = DANGO_LAMBDA[channel], {"lambda_source": "DANGO's released values"}
    elif lambda_mode == "one":
        lam, lam_meta = 1.0, {"lambda_source": "fixed 1.0 (ablation)"}
    else:
        raise ValueError(f"unknown lambda mode {lambda_mode!r}; choose one of {LAMBDA_MODES}")
    degree = torch.bincount(edge_index[0], minlength=len(genes))
    meta = {"release": release, "channel": channel, "genes_checksum": gene_index_checksum(genes),
            "edges": int(edge_index.size(1) // 2),
            "genes_with_edges": int((degree > 0).sum()), **lam_meta}
    qc.info.update(meta)
    return NetworkGraph(name=name, edge_index=edge_index, weight=weight, num_nodes=len(genes),
                        lam=lam, meta=meta)


def build_directed_edge_index(edges: pd.DataFrame, genes: list[str], qc: QCReport | None = None,
                              ) -> tuple[Tensor, Tensor, Tensor]:
    """Symmetrise a directed network (``gene_a`` → ``gene_b``) onto the gene index: the
    symmetric ``edge_index`` and ``weight`` (a pair published both ways keeps the larger
    weight) and each edge's ``direction`` (+1 as published, −1 reversed, 2 both ways)."""
    position = pd.Series(np.arange(len(genes)), index=pd.Index(genes))
    a, b = edges["gene_a"].map(position), edges["gene_b"].map(position)
    keep = a.notna() & b.notna()
    if qc is not None:
        qc.count("edges_outside_genes", int((~keep).sum()))
        qc.count("edges_kept", int(keep.sum()))
    a, b = a[keep].to_numpy(np.int64), b[keep].to_numpy(np.int64)
    w = edges["weight"][keep].to_numpy(np.float32)
    both = pd.DataFrame({"src": np.concatenate([a, b]), "dst": np.concatenate([b, a]),
                         "weight": np.concatenate([w, w]),
                         "direction": np.concatenate([np.ones_like(a), -np.ones_like(a)])})
    merged = both.groupby(["src", "dst"], sort=True).agg(
        weight=("weight", "max"), direction=("direction", "sum"),
        count=("direction", "size")).reset_index()
    # A pair published both ways appears twice per direction: +1 and −1 sum to 0.
    direction = np.where(merged["count"] > 1, 2, merged["direction"]).astype(np.int8)
    edge_index = torch.from_numpy(merged[["src", "dst"]].to_numpy(np.int64).T.copy())
    return (edge_index, torch.from_numpy(merged["weight"].to_numpy(np.float32).copy()),
            torch.from_numpy(direction))


def build_source_network_graph(name: str, table: pd.DataFrame, genes: list[str],
                               configured_lambda: dict[str, float] | None = None,
                               lambda_mode: str = "rule", qc: QCReport | None = None,
                               ) -> NetworkGraph:
    """Build a non-STRING network's graph (``physical``, ``regulatory``, …) from its canonical
    network table (:mod:`geneint.data.networks`).

    λ: such a network has no second release to compare, so every mode but ``one`` takes
    ``graphs.lambda.<name>`` when the config gives it and 1.0 otherwise (these networks are
    curated, not sparse score cut-offs, so their zeros are not discounted by default).
    """
    if lambda_mode not in LAMBDA_MODES:
        raise ValueError(f"unknown lambda mode {lambda_mode!r}; choose one of {LAMBDA_MODES}")
    rows = table[table["network"] == name]
    if rows.empty:
        raise ValueError(f"network {name!r} has no edges in its table (networks there: "
                         f"{sorted(table['network'].unique())})")
    qc = qc if qc is not None else QCReport([])
    directed = bool(rows["directed"].any())
    if directed:
        edge_index, weight, direction = build_directed_edge_index(rows, genes, qc)
    else:
        edge_index, weight = build_edge_index(rows, genes, qc)
        direction = torch.zeros_like(weight, dtype=torch.int8)
    configured = (configured_lambda or {}).get(name)
    if lambda_mode == "one" or configured is None:
        lam, source = 1.0, "1.0 (no release pair; graphs.lambda does not set it)"
    else:
        lam, source = float(configured), "config"
    degree = torch.bincount(edge_index[0], minlength=len(genes))
    meta = {"network": name, "directed": directed, "genes_checksum": gene_index_checksum(genes),
            "edges": int(edge_index.size(1) // 2), "genes_with_edges": int((degree > 0).sum()),
            "lambda_source": source}
    qc.info.update(meta)
    return NetworkGraph(name=name, edge_index=edge_index, weight=weight, num_nodes=len(genes),
                        lam=lam, meta=meta, direction=direction)
