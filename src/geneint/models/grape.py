"""GRAPE (Chi et al., IJCAI 2025): perturbation-response prediction on a biotype-aware
heterogeneous gene graph whose structure is learned. A PyG port of the DGL original.

1. **Multimodal encoder.** Each gene view (description, sequence: precomputed vectors, or a
   learned embedding when there are none) goes through a projection head (Gaussian-kernel
   transform → Linear → GELU → residual → LayerNorm); the views are aligned by a contrastive
   pre-training step (InfoNCE over cosine "discriminators", temperature 1) and fused by an MLP.
2. **Initial graph.** Cosine similarities of each view and of the fused features, each kept
   above 0.6, averaged, row-normalised, kept above 0.015.
3. **Graph structure learning.** A GCN over the initial graph (its edges above 0.04, self
   loops); per layer a multi-head weighted cosine similarity; layers fused by learnable softmax
   channel weights; row-normalised; kept above 0.015 — or, optionally, each gene's strongest
   neighbours instead (the threshold keeps almost every edge of a few genes and none of
   thousands). The refined graph is regularised towards the initial one (MSE).
4. **Heterogeneous GNN.** The refined graph split by biotype into coding–coding,
   coding–non-coding (both directions) and non-coding–non-coding relations, one 2-layer GAT
   per relation (heads averaged, the edge weight as the edge feature, so the learned structure
   gets gradient), summed over relations.
5. **Perturbation.** The perturbed genes' feature rows are multiplied by a factor: 0 in
   training and prediction by default; the original's 0 in training and −1 at prediction is
   kept as an option.
6. **Decoder.** BatchNorm → ReLU → MLP → a gene-specific linear map, plus the control mean:
   one predicted mean profile per perturbation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, GCNConv, HeteroConv
from torch_geometric.utils import dense_to_sparse

CODING, NONCODING = "coding", "noncoding"
#: (source type, relation, target type): the relations of the biotype-aware graph.
RELATIONS = ((CODING, "cc", CODING), (CODING, "cn", NONCODING), (NONCODING, "nc", CODING),
             (NONCODING, "nn", NONCODING))


class GaussianKernel(nn.Module):
    """exp(−‖x − μ_k‖² / 2σ_k²) against learnable centres: a smooth re-encoding of a view."""

    def __init__(self, in_dim: int, kernels: int) -> None:
        super().__init__()
        self.centres = nn.Parameter(torch.randn(kernels, in_dim))
        self.log_width = nn.Parameter(torch.full((kernels,), 0.5 * float(in_dim) ** 0.5).log())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        distance = torch.cdist(x, self.centres).pow(2)
        return torch.exp(-distance / (2 * self.log_width.exp().pow(2)))


class ProjectionHead(nn.Module):
    def __init__(self, in_dim: int, hidden: int, kernels: int = 64) -> None:
        super().__init__()
        self.kernel = GaussianKernel(in_dim, kernels)
        self.project = nn.Linear(kernels + in_dim, hidden)
        self.residual = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden))
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([self.kernel(x), x], dim=-1))
        return self.norm(h + self.residual(h))


def cosine_matrix(x: torch.Tensor) -> torch.Tensor:
    x = F.normalize(x, dim=-1)
    return x @ x.transpose(-1, -2)


def sparsify(adjacency: torch.Tensor, threshold: float, neighbours: int = 0) -> torch.Tensor:
    """Row-normalise a non-negative matrix, then drop entries below ``threshold`` — or, with
    ``neighbours``, keep each row's strongest ``neighbours`` entries instead (over thousands
    of genes the row-normalised weights all fall below the published threshold)."""
    adjacency = adjacency.clamp_min(0)
    adjacency = adjacency / adjacency.sum(-1, keepdim=True).clamp_min(1e-12)
    if neighbours <= 0:
        return adjacency * (adjacency >= threshold)
    if neighbours >= adjacency.shape[-1]:
        return adjacency
    kth = adjacency.topk(neighbours, dim=-1).values[..., -1:]
    return adjacency * ((adjacency >= kth) & (adjacency > 0))


class MultimodalEncoder(nn.Module):
    """Gene views → aligned projections and their fusion."""

    def __init__(self, view_dims: list[int], hidden: int) -> None:
        super().__init__()
        self.heads = nn.ModuleList(ProjectionHead(d, hidden) for d in view_dims)
        self.discriminators = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, hidden))
            for _ in view_dims)
        self.fuse = nn.Sequential(nn.Linear(hidden * len(view_dims), hidden), nn.GELU(),
                                  nn.Linear(hidden, hidden))

    def forward(self, views: list[torch.Tensor]) -> tuple[list[torch.Tensor], torch.Tensor]:
        projected = [head(v) for head, v in zip(self.heads, views)]
        return projected, self.fuse(torch.cat(projected, dim=-1))

    def contrastive_loss(self, views: list[torch.Tensor], temperature: float = 1.0
                         ) -> torch.Tensor:
        """InfoNCE between the first two views: a gene's two views attract, other genes'
        repel."""
        projected, _ = self(views)
        first, second = (F.normalize(d(p), dim=-1)
                         for d, p in zip(self.discriminators, projected[:2]))
        logits = first @ second.T / temperature
        return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))


def initial_graph(projected: list[torch.Tensor], fused: torch.Tensor, view_threshold: float,
                  graph_threshold: float, neighbours: int = 0) -> torch.Tensor:
    similarities = [cosine_matrix(v) for v in (*projected, fused)]
    kept = [s * (s >= view_threshold) for s in similarities]
    return sparsify(torch.stack(kept).mean(0), graph_threshold, neighbours)


class StructureLearner(nn.Module):
    """GCN over the initial graph → per-layer multi-head cosine similarity → fused graph."""

    def __init__(self, hidden: int, layers: int, heads: int, gcn_threshold: float,
                 graph_threshold: float, neighbours: int = 0) -> None:
        super().__init__()
        self.convs = nn.ModuleList(GCNConv(hidden, hidden) for _ in range(layers))
        self.head_weights = nn.Parameter(torch.ones(layers, heads, hidden)
                                         + 0.1 * torch.randn(layers, heads, hidden))
        self.channel_logits = nn.Parameter(torch.zeros(layers))
        self.gcn_threshold = gcn_threshold
        self.graph_threshold = graph_threshold
        self.neighbours = neighbours

    def forward(self, features: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
        edge_index, weight = dense_to_sparse(initial * (initial > self.gcn_threshold))
        h, per_layer = features, []
        for conv, weights in zip(self.convs, self.head_weights):
            h = F.relu(conv(h, edge_index, weight))
            per_layer.append(cosine_matrix(weights[:, None, :] * h[None]).mean(0))
        channels = torch.softmax(self.channel_logits, 0)
        fused = (channels[:, None, None] * torch.stack(per_layer)).sum(0)
        return sparsify(fused, self.graph_threshold, self.neighbours)


class BiotypeGAT(nn.Module):
    """Two rounds of relation-wise GAT, relation outputs summed (HeteroConv)."""

    def __init__(self, hidden: int, out_dim: int, heads: int, dropout: float,
                 relations: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.dropout = dropout

        def layer(i: int, o: int) -> HeteroConv:
            return HeteroConv({rel: GATConv(i, o, heads=heads, concat=False, dropout=dropout,
                                            edge_dim=1, add_self_loops=False)
                               for rel in relations}, aggr="sum")

        self.layers = nn.ModuleList([layer(hidden, hidden), layer(hidden, out_dim)])

    def forward(self, x: dict, edges: dict, weights: dict) -> dict:
        for k, conv in enumerate(self.layers):
            x = {t: F.dropout(v, self.dropout, self.training) for t, v in x.items()}
            x = conv(x, edges, edge_attr_dict={rel: w[:, None] for rel, w in weights.items()})
            if k < len(self.layers) - 1:
                x = {t: F.elu(v) for t, v in x.items()}
        return x


def replicate_edges(edge_index: torch.Tensor, copies: int, n_source: int, n_target: int
                    ) -> torch.Tensor:
    """The edges of one gene graph repeated for ``copies`` graphs stacked node-wise."""
    offsets = torch.arange(copies, device=edge_index.device)
    shift = torch.stack([offsets * n_source, offsets * n_target])          # 2 × copies
    return (edge_index[:, None, :] + shift[:, :, None]).reshape(2, -1)


class GRAPE(nn.Module):
    """``views``: the gene feature matrices (genes × d); none for a learned embedding.
    ``coding``: a bool per gene (its biotype)."""

    def __init__(self, n_genes: int, view_dims: list[int], coding: torch.Tensor, hidden: int,
                 out_dim: int, kernels: int, gat_heads: int, dropout: float, gsl_layers: int,
                 gsl_heads: int, view_threshold: float, graph_threshold: float,
                 gcn_threshold: float, neighbours: int = 0) -> None:
        super().__init__()
        self.encoder = MultimodalEncoder(view_dims, hidden) if view_dims else None
        self.embedding = None if view_dims else nn.Embedding(n_genes, hidden)
        self.view_threshold, self.graph_threshold = view_threshold, graph_threshold
        self.neighbours = neighbours
        self.structure = StructureLearner(hidden, gsl_layers, gsl_heads, gcn_threshold,
                                          graph_threshold, neighbours)
        self.register_buffer("coding", coding.bool())
        self.register_buffer("initial", torch.zeros(n_genes, n_genes))
        self.types = [t for t, present in ((CODING, coding.any()), (NONCODING, (~coding).any()))
                      if present]
        self.relations = [r for r in RELATIONS if r[0] in self.types and r[2] in self.types]
        self.gnn = BiotypeGAT(hidden, out_dim, gat_heads, dropout, self.relations)
        self.norm = nn.BatchNorm1d(out_dim)
        self.mlp = nn.Sequential(nn.Linear(out_dim, 2 * out_dim), nn.ReLU(),
                                 nn.Linear(2 * out_dim, out_dim))
        self.gene_weight = nn.Parameter(torch.randn(n_genes, out_dim) / out_dim ** 0.5)
        self.gene_bias = nn.Parameter(torch.zeros(n_genes))

    def gene_features(self, views: list[torch.Tensor]) -> tuple[list[torch.Tensor],
                                                                  torch.Tensor]:
        if self.encoder is None:
            return [], self.embedding.weight
        return self.encoder(views)

    @torch.no_grad()
    def set_initial_graph(self, views: list[torch.Tensor]) -> None:
        projected, fused = self.gene_features(views)
        self.initial.copy_(initial_graph(projected, fused, self.view_threshold,
                                         self.graph_threshold, self.neighbours))

    def type_index(self) -> dict[str, torch.Tensor]:
        return {CODING: torch.nonzero(self.coding).ravel(),
                NONCODING: torch.nonzero(~self.coding).ravel()}

    def forward(self, views: list[torch.Tensor], factors: torch.Tensor, control: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``factors``: perturbations × genes, 1 for an untouched gene and the perturbation
        factor (0, or −1) for a knocked-down one → (predicted mean profiles, refined graph)."""
        _, features = self.gene_features(views)
        graph = self.structure(features, self.initial)
        copies = len(factors)
        x = factors[:, :, None] * features[None]                           # P × G × hidden
        index = self.type_index()
        x_dict = {t: x[:, index[t]].reshape(-1, x.shape[-1]) for t in self.types}
        edges, weights = {}, {}
        for source, relation, target in self.relations:
            block = graph[index[source]][:, index[target]]
            edge_index, weight = dense_to_sparse(block)
            key = (source, relation, target)
            edges[key] = replicate_edges(edge_index, copies, len(index[source]),
                                         len(index[target]))
            weights[key] = weight.repeat(copies)
        out = self.gnn(x_dict, edges, weights)
        z = x.new_zeros(copies, x.shape[1], self.gene_weight.shape[1])
        for t in self.types:
            z[:, index[t]] = out[t].reshape(copies, len(index[t]), -1)
        z = F.relu(self.norm(z.reshape(-1, z.shape[-1]))).reshape(z.shape)
        z = self.mlp(z)
        return (z * self.gene_weight).sum(-1) + self.gene_bias + control, graph
