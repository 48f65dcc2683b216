"""Perturbed cell graphs as samples: one graph per gene set, batched as disjoint graphs.

A sample is the cell graph with the set's genes perturbed, either over the whole graph
(``scope="whole"``, TorchCell's whole-genome sample) or over the genes' ``hops``-hop
neighbourhood (``scope="khop"``, PyG's :func:`~torch_geometric.utils.k_hop_subgraph` with the
neighbourhood taken in both edge directions), the perturbed genes either flagged
(``perturbed="flag"``) or removed with their edges (``perturbed="remove"``).

PyG's ``k_hop_subgraph`` and ``subgraph`` handle one sample at a time and cost O(E) each (they
mask the whole edge list); a step of a thousand sets would scan the genome's edges a thousand
times. :func:`perturbed_samples` extracts the same subgraphs for a whole batch at once from a
CSR view of the graph, at O(Σ degree) of the nodes involved (a test checks it against
``k_hop_subgraph`` + ``subgraph`` sample by sample). Relation types travel with the edges as an
integer id, so pooling layers that filter ``edge_attr`` with the edges keep them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

SCOPES = ("khop", "whole")
PERTURBATIONS = ("flag", "remove")


@dataclass
class CellGraph:
    """Every gene–gene relation of a graph set in one edge list, sorted by source (CSR).

    Attributes:
        num_genes: nodes (the gene index).
        edge_index: (2, E) int64, sorted by source then target.
        relation: (E,) int64 relation id (position in ``relations``).
        relations: relation names.
        rowptr: (num_genes + 1,) CSR offsets of ``edge_index[0]``.
        undirected_rowptr, undirected_col: CSR of the edges taken both ways (the
            neighbourhood of a k-hop sample).
        features: optional (num_genes, F) fixed node features (e.g. pretrained embeddings).
    """

    num_genes: int
    edge_index: Tensor
    relation: Tensor
    relations: list[str]
    rowptr: Tensor
    undirected_rowptr: Tensor
    undirected_col: Tensor
    features: Tensor | None = None
    _capped: dict[int, tuple[Tensor, Tensor]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_relations(cls, num_genes: int, edges: dict[str, Tensor],
                       features: Tensor | None = None) -> CellGraph:
        """``edges``: relation name → (2, E) gene indices."""
        relations = list(edges)
        edge_index = torch.cat([e.long() for e in edges.values()], dim=1) if edges else \
            torch.empty(2, 0, dtype=torch.long)
        relation = torch.cat([torch.full((e.size(1),), i, dtype=torch.long)
                              for i, e in enumerate(edges.values())]) if edges else \
            torch.empty(0, dtype=torch.long)
        if edge_index.numel() and int(edge_index.max()) >= num_genes:
            raise ValueError(f"edge to gene {int(edge_index.max())} of {num_genes} genes")
        order = torch.argsort(edge_index[0] * num_genes + edge_index[1], stable=True)
        edge_index, relation = edge_index[:, order], relation[order]
        both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        both = torch.unique(both[0] * num_genes + both[1])
        return cls(num_genes, edge_index, relation, relations, _rowptr(edge_index[0], num_genes),
                   _rowptr(both // num_genes, num_genes), both % num_genes,
                   None if features is None else features.float())

    def on(self, device: torch.device) -> CellGraph:
        """Move to ``device`` in place (once; later calls are free)."""
        if self.edge_index.device != device:
            for name in ("edge_index", "relation", "rowptr", "undirected_rowptr",
                         "undirected_col", "features"):
                if getattr(self, name) is not None:
                    setattr(self, name, getattr(self, name).to(device))
            self._capped = {k: (r.to(device), c.to(device)) for k, (r, c) in self._capped.items()}
        return self

    @property
    def names(self) -> list[str]:
        """Relation names, checked when a trained model gets its graph again."""
        return list(self.relations)

    def neighbourhood(self, limit: int = 0) -> tuple[Tensor, Tensor]:
        """CSR (rowptr, col) of the neighbours a k-hop sample expands through: all of them
        (``limit`` 0), or at most ``limit`` per gene — a fixed pseudo-random choice (every
        edge gets a priority from a generator seeded 0; a gene keeps its lowest), so the same
        set always gets the same sample, in training and in prediction. Cached per limit."""
        if not limit:
            return self.undirected_rowptr, self.undirected_col
        if limit not in self._capped:
            rowptr, col = self.undirected_rowptr, self.undirected_col
            row = torch.repeat_interleave(torch.arange(self.num_genes, device=col.device),
                                          rowptr[1:] - rowptr[:-1])
            priority = torch.rand(len(col), generator=torch.Generator().manual_seed(0))
            order = torch.argsort(row.cpu().double() * 2 + priority.double())  # row, priority
            rank = torch.arange(len(col)) - torch.repeat_interleave(
                rowptr[:-1].cpu(), (rowptr[1:] - rowptr[:-1]).cpu())
            keep = order[rank < limit]
            kept_row, kept_col = row[keep.to(col.device)], col[keep.to(col.device)]
            self._capped[limit] = (_rowptr(kept_row, self.num_genes), kept_col)
        return self._capped[limit]


@dataclass
class SampleBatch:
    """Disjoint per-set graphs (PyG's batching: one node list, ``batch`` names each node's set).

    Attributes:
        gene: (M,) gene index of each node.
        batch: (M,) set (row of the batch) of each node, non-decreasing.
        perturbed: (M,) bool, the node is one of its set's genes.
        edge_index: (2, E') node positions within the batch.
        relation: (E',) relation id of each edge.
        num_samples: sets in the batch (a set may have no nodes: its genes removed, no
            neighbours).
    """

    gene: Tensor
    batch: Tensor
    perturbed: Tensor
    edge_index: Tensor
    relation: Tensor
    num_samples: int


def _rowptr(sorted_rows: Tensor, num_rows: int) -> Tensor:
    counts = torch.bincount(sorted_rows, minlength=num_rows)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def _expand_rows(rowptr: Tensor, rows: Tensor) -> tuple[Tensor, Tensor]:
    """For each entry of every row in ``rows``: which of ``rows`` it belongs to, and its
    position in the CSR arrays."""
    start = rowptr[rows]
    count = rowptr[rows + 1] - start
    owner = torch.repeat_interleave(torch.arange(len(rows), device=rows.device), count)
    first = torch.repeat_interleave(count.cumsum(0) - count, count)
    position = start[owner] + torch.arange(len(owner), device=rows.device) - first
    return owner, position


def perturbed_samples(graph: CellGraph, genes: Tensor, mask: Tensor, scope: str = "khop",
                      hops: int = 1, perturbed: str = "flag",
                      neighbours: int = 0) -> SampleBatch:
    """One sample per row of ``genes`` (:math:`(B, S)`, padding where ``mask`` is False); see
    the module docstring for ``scope``, ``hops`` and ``perturbed``. ``neighbours`` > 0 expands
    a k-hop sample through at most that many neighbours per gene
    (:meth:`CellGraph.neighbourhood`); the sample keeps every edge among its genes."""
    if scope not in SCOPES:
        raise ValueError(f"unknown sample scope {scope!r}; choose one of {SCOPES}")
    if perturbed not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {perturbed!r}; choose one of {PERTURBATIONS}")
    num_samples, n = genes.shape[0], graph.num_genes
    device = genes.device
    hit = torch.zeros(num_samples, n, dtype=torch.bool, device=device)
    rows = torch.arange(num_samples, device=device).unsqueeze(-1).expand_as(genes)
    hit[rows[mask], genes[mask]] = True
    if scope == "whole":
        member = torch.ones_like(hit)
    else:
        member = hit.clone()
        frontier = hit
        rowptr, col = graph.neighbourhood(neighbours)
        for _ in range(hops):
            sample, node = frontier.nonzero(as_tuple=True)
            owner, position = _expand_rows(rowptr, node)
            reached = torch.zeros_like(member)
            reached[sample[owner], col[position]] = True
            frontier = reached & ~member
            member |= reached
    if perturbed == "remove":
        member &= ~hit
    sample, node = member.nonzero(as_tuple=True)  # row-major: grouped by sample
    local = torch.full((num_samples, n), -1, dtype=torch.long, device=device)
    local[sample, node] = torch.arange(len(node), device=device)
    owner, position = _expand_rows(graph.rowptr, node)
    target = graph.edge_index[1, position]
    keep = member[sample[owner], target]
    owner, position, target = owner[keep], position[keep], target[keep]
    edge_index = torch.stack([owner, local[sample[owner], target]])
    return SampleBatch(gene=node, batch=sample, perturbed=hit[sample, node],
                       edge_index=edge_index, relation=graph.relation[position],
                       num_samples=num_samples)
