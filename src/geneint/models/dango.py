r"""DANGO: per-network GNNs, a meta-embedding and a Hyper-SAGNN that scores gene sets.

From Zhang, Bafna, Ma & Ma, `"DANGO: Predicting higher-order genetic interactions"
<https://doi.org/10.1101/2020.11.26.400739>`_ (bioRxiv 2020/2025). Section numbers (§) here and
in :mod:`geneint.models.layers` and :mod:`geneint.train` refer to ``docs/dango.md``, which
writes out the model's equations (§2 GNNs and reconstruction, §3 meta-embedding, §4
Hyper-SAGNN, §5 loss), the two variants (§6) and the differences from the original code (§7);
"the original code" means ``ma-compbio/DANGO`` at ``810cf29``.

The pieces, one class per concept, live in :mod:`geneint.models.layers` and are composed here:

- :class:`~geneint.models.layers.NetworkEncoder` (§2): a 2-layer mean-aggregation GNN per network;
- :class:`~geneint.models.layers.ReconstructionHead` (§2): predicts a gene's adjacency row;
- :class:`~geneint.models.layers.MetaEmbedding` (§3): attention over networks;
- :class:`~geneint.models.layers.HyperSAGNN` (§4): static/dynamic embeddings of a gene set and its
  score, from :class:`~geneint.models.layers.SetSelfAttention` layers with ReZero.

:data:`DANGO_VARIANTS` names the configurations (``spec``: the paper; ``original``: the original
code's quirks) and :func:`dango_config` turns one into :class:`Dango` keyword arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.typing import Adj, OptTensor
from torch_geometric.utils import to_torch_csr_tensor

from geneint.models.base import SetModel
from geneint.models.layers import (
    HyperSAGNN,
    MetaEmbedding,
    NetworkEncoder,
    ReconstructionHead,
    check_positive,
)

#: Configurations of :class:`Dango` by variant name (``variant`` in the sweep). ``original`` is
#: the original code's (one attention layer with 8 heads and no self-mask, ``output="dynamic"``
#: — LayerNorm → FC, summed over the set —, swish, 5 sampled neighbours with self-loops,
#: reconstruction heads with one hidden layer of width ``dim``, a single-linear meta score).
#: ``spec`` is the class defaults: the paper's two-layer meta score among them.
DANGO_VARIANTS: dict[str, dict[str, Any]] = {
    "spec": {},
    "original": {"num_heads": 8, "num_attention_layers": 1, "activation": "swish",
                 "self_mask": False, "output": "dynamic", "recon_hidden": "dim",
                 "meta_layers": 1, "num_sampled_neighbors": 5, "add_self_loops": True},
}


def dango_config(variant: str, num_genes: int, num_networks: int, dim: int = 64,
                 **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of :class:`Dango` for a variant; ``overrides`` that are not ``None``
    replace the variant's values."""
    if variant not in DANGO_VARIANTS:
        raise ValueError(f"unknown DANGO variant {variant!r}; choose one of "
                         f"{tuple(DANGO_VARIANTS)}")
    config: dict[str, Any] = {"num_genes": num_genes, "num_networks": num_networks, "dim": dim}
    config.update({k: dim if v == "dim" else v for k, v in DANGO_VARIANTS[variant].items()})
    config.update({k: v for k, v in overrides.items() if v is not None})
    return config


class Dango(SetModel):
    r"""DANGO (docs/dango.md §2–§4): a shared gene embedding table :math:`\mathbf{H}^{(0)}`
    (the learned one-hot lookup), one :class:`NetworkEncoder` and one :class:`ReconstructionHead`
    per pairwise network, a :class:`MetaEmbedding` over the networks and a :class:`HyperSAGNN` that
    scores gene sets of any size.

    Each forward runs every network's GNN once over all genes (:meth:`encode`); the trainer
    reuses ``node_embeddings`` from :meth:`forward` for the reconstruction losses
    (:meth:`reconstruct` + :func:`weighted_mse`) so both losses share one GNN pass. The
    interaction loss (log-cosh, docs/dango.md §5) is the trainer's.

    :meth:`original` builds the original code's configuration (``variant: original``).

    Args:
        num_genes (int): Number of genes :math:`G` (embedding rows and reconstruction width).
        num_networks (int): Number of pairwise networks :math:`K`.
        dim (int, optional): Embedding size :math:`D` everywhere. (default: :obj:`64`)
        num_heads (int, optional): Attention heads. (default: :obj:`4`)
        num_attention_layers (int, optional): Self-attention layers. (default: :obj:`2`)
        activation (str, optional): :math:`\sigma` everywhere. (default: :obj:`"relu"`)
        self_mask (bool, optional): See :class:`HyperSAGNN`. (default: :obj:`True`)
        output (str, optional): ``"diff"`` or ``"dynamic"``, see :class:`HyperSAGNN`.
            (default: :obj:`"diff"`)
        recon_hidden (int, optional): Hidden width of each reconstruction head.
            (default: :obj:`None`)
        meta_layers (int, optional): Layers of the meta-embedding score MLP: 2 (the paper's
            "two FC layers", docs/dango.md §3) or 1 (the original code's single linear score).
            (default: :obj:`2`)
        meta_hidden (int, optional): Hidden width of a 2-layer meta score; :obj:`None` means
            :math:`D`. (default: :obj:`None`)
        num_sampled_neighbors (int, optional): See :class:`NetworkEncoder`.
            (default: :obj:`None`)
        add_self_loops (bool, optional): See :class:`NetworkEncoder`. (default: :obj:`False`)
        dropout (float, optional): Dropout in the attention layers. (default: :obj:`0.0`)
        sample_in_eval (bool, optional): See :class:`NetworkEncoder`. (default: :obj:`False`)
        head_dim (int, optional): Per-head attention size; :obj:`None` means :math:`D`.
            (default: :obj:`None`)

    Shapes:
        - **inputs:** ``edge_indices``: :math:`K` edge indices :math:`(2, |\mathcal{E}_k|)`;
          ``genes``: :math:`(B, S)` int64 gene indices; ``mask``: :math:`(B, S)` bool (True =
          real gene; padding slots may hold any index)
        - **output:** dict with ``pred`` :math:`(B,)`, ``node_embeddings`` :math:`(K, G, D)`,
          ``meta_embedding`` :math:`(G, D)`, ``meta_weights`` :math:`(G, K)`
    """

    def __init__(
        self,
        num_genes: int,
        num_networks: int,
        dim: int = 64,
        num_heads: int = 4,
        num_attention_layers: int = 2,
        activation: str = "relu",
        self_mask: bool = True,
        output: str = "diff",
        recon_hidden: int | None = None,
        meta_layers: int = 2,
        meta_hidden: int | None = None,
        num_sampled_neighbors: int | None = None,
        add_self_loops: bool = False,
        dropout: float = 0.0,
        sample_in_eval: bool = False,
        head_dim: int | None = None,
    ) -> None:
        super().__init__()
        check_positive("num_genes", num_genes)
        check_positive("num_networks", num_networks)
        self.num_genes = num_genes
        self.num_networks = num_networks
        self.dim = dim
        self.embedding = nn.Embedding(num_genes, dim)
        self.encoders = nn.ModuleList([
            NetworkEncoder(dim, num_layers=2, activation=activation,
                           num_sampled_neighbors=num_sampled_neighbors,
                           add_self_loops=add_self_loops, sample_in_eval=sample_in_eval)
            for _ in range(num_networks)
        ])
        self.recon_heads = nn.ModuleList([
            ReconstructionHead(dim, num_genes, hidden=recon_hidden, activation=activation)
            for _ in range(num_networks)
        ])
        self.meta = MetaEmbedding(dim, num_networks, num_layers=meta_layers,
                                  hidden=meta_hidden, activation=activation)
        self.hyper = HyperSAGNN(dim, num_heads=num_heads, num_layers=num_attention_layers,
                                activation=activation, self_mask=self_mask, output=output,
                                dropout=dropout, head_dim=head_dim)
        self.reset_parameters()

    @classmethod
    def original(cls, num_genes: int, num_networks: int, dim: int = 128,
                 **kwargs: Any) -> Dango:
        """The original code's configuration (``variant: original``, :data:`DANGO_VARIANTS`);
        keyword arguments override any of its values."""
        return cls(**dango_config("original", num_genes, num_networks, dim=dim, **kwargs))

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        for encoder in self.encoders:
            encoder.reset_parameters()
        for head in self.recon_heads:
            head.reset_parameters()
        self.meta.reset_parameters()
        self.hyper.reset_parameters()

    def encode(self, edge_indices: Sequence[Adj]) -> Tensor:
        r"""Every network's GNN over all genes: :math:`(K, G, D)`."""
        if len(edge_indices) != self.num_networks:
            raise ValueError(f"expected {self.num_networks} edge indices (one per network), "
                             f"got {len(edge_indices)}")
        x = self.embedding.weight
        return torch.stack([encoder(x, edge_index)
                            for encoder, edge_index in zip(self.encoders, edge_indices,
                                                                   strict=True)])

    def embed(self, edge_indices: Sequence[Adj]) -> tuple[Tensor, Tensor]:
        r"""Meta-embedding :math:`(G, D)` and its network weights :math:`(G, K)`."""
        return self.meta(self.encode(edge_indices))

    def score_sets(self, node_embedding: Tensor, genes: Tensor, mask: OptTensor = None) -> Tensor:
        r"""Scores :math:`(B,)` of the gene sets ``genes`` :math:`(B, S)` given gene embeddings
        :math:`(G, D)`; slots where ``mask`` is False are ignored whatever index they hold."""
        if genes.dim() != 2:
            raise ValueError(f"genes must be (B, S), got shape {tuple(genes.shape)}")
        if mask is None:
            mask = torch.ones_like(genes, dtype=torch.bool)
        mask = mask.bool()
        x = node_embedding[genes.masked_fill(~mask, 0)]
        return self.hyper(x, mask)

    def reconstruct(self, k: int, h_k_rows: Tensor) -> Tensor:
        r"""Network ``k``'s predicted adjacency rows :math:`(B, G)` from embeddings
        :math:`(B, D)` of its own encoder."""
        return self.recon_heads[k](h_k_rows)

    def forward(self, edge_indices: Sequence[Adj], genes: Tensor,
                mask: OptTensor = None) -> dict[str, Tensor]:
        node_embeddings = self.encode(edge_indices)
        meta_embedding, meta_weights = self.meta(node_embeddings)
        pred = self.score_sets(meta_embedding, genes, mask)
        return {
            "pred": pred,
            "node_embeddings": node_embeddings,
            "meta_embedding": meta_embedding,
            "meta_weights": meta_weights,
        }

    # -- the SetModel interface (geneint.models.base) ---------------------------------------
    def propagation_input(self, edge_index: Tensor, num_nodes: int) -> Adj:
        """What the encoders get for one graph: a sparse CSR adjacency (transposed, as PyG
        expects) when no neighbour sampling or self-loops are configured — PyG then aggregates
        with one sparse matrix product, about 6× faster on CPU than scattering edge by edge —
        else the edge_index itself (the original variant resamples edges every forward)."""
        encoder = self.encoders[0]
        if encoder.num_sampled_neighbors or encoder.add_self_loops:
            return edge_index
        return to_torch_csr_tensor(edge_index.flip(0), size=(num_nodes, num_nodes))

    def prepare(self, inputs: Sequence[Adj]) -> dict[str, Tensor]:
        """Every network's GNN and the meta-embedding, once per step: ``node_embeddings``
        :math:`(K, G, D)` (for the reconstruction loss) and ``meta`` :math:`(G, D)`."""
        node_embeddings = self.encode(inputs)
        meta, _ = self.meta(node_embeddings)
        return {"node_embeddings": node_embeddings, "meta": meta}

    def score(self, state: dict[str, Tensor], genes: Tensor, mask: Tensor) -> Tensor:
        return self.score_sets(state["meta"], genes, mask)

    def __repr__(self) -> str:
        enc = self.encoders[0]
        return (f"{self.__class__.__name__}(num_genes={self.num_genes}, "
                f"num_networks={self.num_networks}, dim={self.dim}, "
                f"num_heads={self.hyper.num_heads}, "
                f"num_attention_layers={self.hyper.num_layers}, "
                f"activation={self.hyper.activation!r}, self_mask={self.hyper.self_mask}, "
                f"output={self.hyper.output!r}, recon_hidden={self.recon_heads[0].hidden}, "
                f"meta_hidden={self.meta.hidden}, "
                f"num_sampled_neighbors={enc.num_sampled_neighbors}, "
                f"add_self_loops={enc.add_self_loops})")

