r"""``multigraph``: one heterogeneous GNN over every graph of a graph set, an embedding-difference
head and a DANGO-style set head, mixed by a learned gate (TorchCell's "TC_all_graphs",
``hetero_cell_bipartite_dango_gi``: "embed_diff + dango_head").

Nodes are genes and, when the set has ``metabolism``, reactions and metabolites, each with a
learnable embedding. Each of ``num_layers`` rounds is a PyG :class:`~torch_geometric.nn.HeteroConv`
with one :class:`~torch_geometric.nn.GATv2Conv` per relation (its own weights; edge weights or
stoichiometric coefficients as a 1-d edge attribute), summed over relations, then a residual and
a LayerNorm per node type:

.. math::
    \mathbf{h}^{(l+1)}_v = \mathrm{LN}\Big(\mathbf{h}^{(l)}_v + \mathrm{ELU}\big(
    \textstyle\sum_{r} \mathrm{GATv2}_r(\mathbf{h}^{(l)}, \mathcal{E}_r)_v\big)\Big).

Relations: one per gene–gene network (a directed network also gets its reverse, so a TF hears
from its targets through separate weights), and gene→reaction (GPR), reaction→gene,
metabolite→reaction and reaction→metabolite (signed stoichiometry as the edge attribute).

**Whole cell.** The cell's embedding is an attention readout over the final gene embeddings,
:math:`\mathbf{z} = \sum_v a_v \mathbf{h}_v` with :math:`a = \mathrm{softmax}(\mathbf{w}^\top
\mathbf{h}_v)`. The perturbed cell of a set :math:`S` is the same readout with the perturbed
genes removed (their weights renormalised away): with :math:`e_v = \exp(\mathbf{w}^\top
\mathbf{h}_v)`,

.. math::
    \mathbf{z}_{\setminus S} = \frac{\sum_{v} e_v \mathbf{h}_v - \sum_{v \in S} e_v
    \mathbf{h}_v}{\sum_v e_v - \sum_{v \in S} e_v},

which costs :math:`O(|S|)` per set, so message passing runs once per step for the wild type
and every set of the step reuses it. (Recomputing message passing without the perturbed genes,
as TorchCell does, costs one whole-genome GNN per set; the removal here keeps the readout
exact for the wild-type embeddings and leaves neighbours' embeddings as in the wild type.)

**Heads.** Global: an MLP on :math:`\mathbf{z} - \mathbf{z}_{\setminus S}`. Local: DANGO's
:class:`~geneint.models.layers.HyperSAGNN` (set self-attention with ReZero) on the perturbed
genes' embeddings. Gate: :math:`g = \sigma(\mathrm{MLP}([\mathbf{z} - \mathbf{z}_{\setminus S}
\,\Vert\, \bar{\mathbf{h}}_S]))`, :math:`\hat\tau = g\,\hat\tau_\text{global} +
(1 - g)\,\hat\tau_\text{local}`. Works for sets of any size (pairs, triples, mixed).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATv2Conv, HeteroConv

from geneint.models.base import SetModel
from geneint.models.layers import HyperSAGNN, check_positive

EdgeType = tuple[str, str, str]
NODE_TYPES = ("gene", "reaction", "metabolite")


@dataclass
class HeteroGraph:
    """The cell graph a :class:`MultiGraph` propagates over (a model input, not state).

    Attributes:
        num_nodes: nodes per type (``gene`` always; ``reaction``/``metabolite`` with metabolism).
        edge_index: (2, E) per relation ``(src_type, name, dst_type)``.
        edge_attr: (E, 1) float per relation (edge weight, or signed stoichiometry).
    """

    num_nodes: dict[str, int]
    edge_index: dict[EdgeType, Tensor]
    edge_attr: dict[EdgeType, Tensor] = field(default_factory=dict)

    def on(self, device: torch.device) -> HeteroGraph:
        """Move to ``device`` in place (once; later calls are free)."""
        if any(t.device != device for t in self.edge_index.values()):
            self.edge_index = {k: v.to(device) for k, v in self.edge_index.items()}
            self.edge_attr = {k: v.to(device) for k, v in self.edge_attr.items()}
        return self

    @property
    def relations(self) -> list[EdgeType]:
        return list(self.edge_index)

    @property
    def names(self) -> list[str]:
        """Relation names, checked when a trained model gets its graph again."""
        return [relation_key(r) for r in self.relations]


def relation_key(relation: EdgeType) -> str:
    return "__".join(relation)


class MultiGraph(SetModel):
    r"""See the module docstring.

    Args:
        num_nodes (dict): Nodes per type; ``gene`` is the gene index.
        relations (list): The relations ``(src_type, name, dst_type)``, in a fixed order.
        dim (int, optional): Embedding size :math:`D`. (default: :obj:`64`)
        num_layers (int, optional): HeteroConv rounds. (default: :obj:`2`)
        heads (int, optional): GATv2 heads per relation (``dim`` divisible by it).
            (default: :obj:`4`)
        local_layers (int, optional): Self-attention layers of the local head.
            (default: :obj:`2`)
        local_heads (int, optional): Heads of the local head. (default: :obj:`4`)
        dropout (float, optional): Attention dropout of the GATv2 layers. (default: :obj:`0.0`)

    Shapes:
        - :meth:`prepare`: a :class:`HeteroGraph` → gene embeddings :math:`(N, D)` and readout
          state
        - :meth:`score`: genes :math:`(B, S)`, mask :math:`(B, S)` → :math:`(B,)`
    """

    def __init__(self, num_nodes: dict[str, int], relations: list[EdgeType], dim: int = 64,
                 num_layers: int = 2, heads: int = 4, local_layers: int = 2,
                 local_heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        check_positive("dim", dim)
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        unknown = {t for r in relations for t in (r[0], r[2])} - set(num_nodes)
        if unknown:
            raise ValueError(f"relations use node types without a size: {sorted(unknown)}")
        self.num_nodes = dict(num_nodes)
        self.relations = [tuple(r) for r in relations]
        self.dim = dim
        self.embedding = nn.ParameterDict({
            t: nn.Parameter(torch.empty(n, dim)) for t, n in num_nodes.items()})
        layer_relations = relations_reaching_genes(self.relations, num_layers)
        with warnings.catch_warnings():
            # Node types left out of a layer on purpose (relations_reaching_genes).
            warnings.filterwarnings("ignore", message="There exist node types")
            self.convs = nn.ModuleList([
                HeteroConv({r: GATv2Conv(dim, dim // heads, heads=heads, edge_dim=1,
                                         add_self_loops=False, dropout=dropout)
                            for r in rels}, aggr="sum")
                for rels in layer_relations])
        self.norms = nn.ModuleList([
            nn.ModuleDict({t: nn.LayerNorm(dim) for t in sorted({r[2] for r in rels})})
            for rels in layer_relations])
        self.readout = nn.Linear(dim, 1)
        self.global_head = nn.Sequential(nn.Linear(dim, dim), nn.ELU(), nn.Linear(dim, 1))
        self.local_head = HyperSAGNN(dim, num_heads=local_heads, num_layers=local_layers)
        self.gate = nn.Sequential(nn.Linear(2 * dim, dim), nn.ELU(), nn.Linear(dim, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for weight in self.embedding.values():
            nn.init.normal_(weight, std=0.1)
        for conv in self.convs:
            conv.reset_parameters()
        for norms in self.norms:
            for norm in norms.values():
                norm.reset_parameters()
        for module in (*self.global_head, *self.gate, self.readout):
            if isinstance(module, nn.Linear):
                module.reset_parameters()
        self.local_head.reset_parameters()

    def embed(self, graph: HeteroGraph) -> Tensor:
        """Final gene embeddings :math:`(N, D)` of the wild-type cell."""
        if graph.num_nodes != self.num_nodes:
            raise ValueError(f"graph has nodes {graph.num_nodes}, the model {self.num_nodes}")
        h = {t: w for t, w in self.embedding.items()}
        for conv, norms in zip(self.convs, self.norms, strict=True):
            edges = {r: graph.edge_index[r] for r in conv.convs.keys()}
            out = conv(h, edges, edge_attr_dict=graph.edge_attr)
            h = {t: norms[t](x + nn.functional.elu(out[t])) if t in out else x
                 for t, x in h.items()}
        return h["gene"]

    def prepare(self, inputs: HeteroGraph) -> dict[str, Tensor]:
        h = self.embed(inputs)
        logits = self.readout(h).squeeze(-1)
        # Weights relative to the largest logit: exp stays finite, ratios are unchanged.
        e = torch.exp(logits - logits.max().detach())
        return {"h": h, "e": e, "weighted_sum": e @ h, "total": e.sum()}

    def cell_difference(self, state: dict[str, Tensor], genes: Tensor, mask: Tensor) -> Tensor:
        r""":math:`\mathbf{z} - \mathbf{z}_{\setminus S}` per set, :math:`(B, D)`."""
        e_s = state["e"][genes] * mask
        removed_sum = torch.einsum("bs,bsd->bd", e_s, state["h"][genes])
        removed = e_s.sum(-1, keepdim=True)
        z = state["weighted_sum"] / state["total"]
        # The perturbed genes never hold all the readout weight in a genome (clamp for safety).
        z_perturbed = (state["weighted_sum"] - removed_sum) / (state["total"] - removed
                                                               ).clamp_min(1e-12)
        return z - z_perturbed

    def score(self, state: dict[str, Tensor], genes: Tensor, mask: Tensor) -> Tensor:
        mask = mask.bool()
        diff = self.cell_difference(state, genes, mask)
        x = state["h"][genes]
        global_pred = self.global_head(diff).squeeze(-1)
        local_pred = self.local_head(x, mask)
        set_mean = (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        gate = torch.sigmoid(self.gate(torch.cat([diff, set_mean], dim=-1))).squeeze(-1)
        return gate * global_pred + (1 - gate) * local_pred

    def extra_repr(self) -> str:
        return f"nodes={self.num_nodes}, relations={len(self.relations)}, dim={self.dim}"


def relations_reaching_genes(relations: list[EdgeType], num_layers: int) -> list[list[EdgeType]]:
    """Per layer, the relations whose messages can still reach a gene by the last layer.

    The last layer needs only relations into genes, the one before also those into their
    sources, and so on: the others would compute embeddings nothing reads (and leave parameters
    without gradients, which DDP rejects)."""
    needed = {"gene"}
    layers: list[list[EdgeType]] = []
    for _ in range(num_layers):
        rels = [r for r in relations if r[2] in needed]
        layers.append(rels)
        needed = needed | {r[0] for r in rels}
    return layers[::-1]


def multigraph_config(graph: HeteroGraph, **options: Any) -> dict[str, Any]:
    """:class:`MultiGraph` keyword arguments for a graph (checkpointed with the weights)."""
    return {"num_nodes": dict(graph.num_nodes),
            "relations": [list(r) for r in graph.relations], **options}
