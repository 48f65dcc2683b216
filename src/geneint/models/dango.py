r"""DANGO: per-network GNNs, a meta-embedding and a Hyper-SAGNN that scores gene sets.

From Zhang, Bafna, Ma & Ma, `"DANGO: Predicting higher-order genetic interactions"
<https://doi.org/10.1101/2020.11.26.400739>`_ (bioRxiv 2020/2025). Section numbers (§) refer to
the equation-level spec in ``docs/seeds/dango_spec.md``; "the original code" means
``ma-compbio/DANGO`` at ``810cf29`` as described in ``docs/reference/dango.md`` §1.

The pieces, one class per concept, composed by :class:`Dango`:

- :class:`NetworkEncoder` (§2): a 2-layer mean-aggregation GNN over one pairwise network;
- :class:`ReconstructionHead` (§2): predicts a gene's adjacency row from its embedding, trained
  with :func:`weighted_mse` (or the original code's :func:`weighted_mse_original`);
- :class:`MetaEmbedding` (§3): attention over networks that merges the per-network embeddings;
- :class:`SetSelfAttention` (§4.1): one masked multi-head self-attention layer with ReZero;
- :class:`HyperSAGNN` (§4): static/dynamic embeddings of a gene set and its score.

``Dango.original(...)`` builds the original code's configuration (``variant: original``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv
from torch_geometric.typing import Adj, OptTensor
from torch_geometric.utils import add_self_loops as add_self_loops_fn
from torch_geometric.utils import group_argsort, is_sparse, remove_self_loops

__all__ = [
    "ACTIVATIONS",
    "Dango",
    "HyperSAGNN",
    "MetaEmbedding",
    "NetworkEncoder",
    "ReconstructionHead",
    "SetSelfAttention",
    "activation_from_name",
    "weighted_mse",
    "weighted_mse_original",
    "weighted_mse_sparse",
]

#: Activation names accepted by every module here. "swish" is the original code's x·sigmoid(x).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}

OUTPUT_MODES = ("diff", "dynamic")


def activation_from_name(name: str) -> nn.Module:
    """A fresh activation module from its name (``relu``, ``swish``/``silu``, ``gelu``)."""
    try:
        return ACTIVATIONS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of "
                         f"{sorted(ACTIVATIONS)}") from None


def _check_positive(name: str, value: int | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# ---------------------------------------------------------------------------------------------
# §2 Per-network GNN and reconstruction
# ---------------------------------------------------------------------------------------------


class NetworkEncoder(nn.Module):
    r"""The per-network GNN of DANGO (spec §2, "Layer :math:`n` update"): a stack of
    mean-aggregation GraphSAGE layers (`Hamilton et al., 2017 <https://arxiv.org/abs/1706.02216>`_),

    .. math::
        \mathbf{H}^{(n)}_{\mathcal{N}(i)} = \mathrm{mean}_{u \in \mathcal{N}(i)}
        \mathbf{H}^{(n-1)}_u, \qquad
        \mathbf{H}^{(n)}_i = \sigma\left(\mathbf{W}^{(n)}_{\mathrm{GNN}}
        \left[\mathbf{H}^{(n-1)}_i \,\Vert\, \mathbf{H}^{(n)}_{\mathcal{N}(i)}\right]\right),

    each layer a :class:`~torch_geometric.nn.conv.SAGEConv` (``aggr="mean"``,
    ``root_weight=True``; :math:`\mathbf{W}[\mathbf{a}\Vert\mathbf{b}] = \mathbf{W}_1\mathbf{a} +
    \mathbf{W}_2\mathbf{b}`) followed by :math:`\sigma`. Message passing is unweighted: as in
    DANGO, edge weights are only reconstruction targets.

    Two switches reproduce the original code:

    - ``num_sampled_neighbors=k`` (original: 5): in training mode, before every layer, each node
      keeps a uniform random subset of at most :math:`k` of its incoming edges, drawn afresh on
      every forward. The draw uses torch's global RNG (no private ``torch.Generator``), so
      ``lightning.seed_everything`` / ``torch.manual_seed`` make it reproducible. In eval mode the
      full neighbourhood is used unless ``sample_in_eval=True`` (the original code also samples
      at evaluation time; we default to the deterministic full mean).
    - ``add_self_loops=True``: the original neighbour lists contain the node itself. Existing
      self-loops are dropped and one self-loop per node is added, so with sampling the node
      competes with its neighbours for the :math:`k` slots, as in the original.

    Args:
        dim (int): Size :math:`D` of the input and output node features.
        num_layers (int, optional): Number of GNN layers. (default: :obj:`2`)
        activation (str, optional): :math:`\sigma`, one of ``"relu"``, ``"swish"``/``"silu"``,
            ``"gelu"``. (default: :obj:`"relu"`)
        num_sampled_neighbors (int, optional): If set, keep at most this many incoming edges per
            node and layer, sampled at random. (default: :obj:`None`, full neighbourhood)
        add_self_loops (bool, optional): Put every node in its own neighbourhood.
            (default: :obj:`False`)
        sample_in_eval (bool, optional): Also sample neighbours in eval mode.
            (default: :obj:`False`)

    Shapes:
        - **inputs:** node features :math:`(|\mathcal{V}|, D)`,
          edge indices :math:`(2, |\mathcal{E}|)` (row 0 source, row 1 destination)
        - **output:** node features :math:`(|\mathcal{V}|, D)`
    """

    def __init__(
        self,
        dim: int,
        num_layers: int = 2,
        activation: str = "relu",
        num_sampled_neighbors: int | None = None,
        add_self_loops: bool = False,
        sample_in_eval: bool = False,
    ) -> None:
        super().__init__()
        _check_positive("dim", dim)
        _check_positive("num_layers", num_layers)
        _check_positive("num_sampled_neighbors", num_sampled_neighbors, allow_none=True)
        self.dim = dim
        self.num_layers = num_layers
        self.activation = activation
        self.num_sampled_neighbors = num_sampled_neighbors
        self.add_self_loops = add_self_loops
        self.sample_in_eval = sample_in_eval
        self.convs = nn.ModuleList(
            [SAGEConv(dim, dim, aggr="mean", root_weight=True) for _ in range(num_layers)])
        self.act = activation_from_name(activation)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    @property
    def samples_neighbors(self) -> bool:
        """Whether the next forward samples neighbours (depends on ``self.training``)."""
        return self.num_sampled_neighbors is not None and (self.training or self.sample_in_eval)

    def sample_neighbors(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        r"""Keep a uniform random subset of at most ``num_sampled_neighbors`` incoming edges
        per destination node: random keys, ranked within each destination's group.

        Args:
            edge_index (torch.Tensor): :math:`(2, |\mathcal{E}|)`.
            num_nodes (int): :math:`|\mathcal{V}|`.

        Returns:
            :math:`(2, |\mathcal{E}'|)` with :math:`|\mathcal{E}'| \le |\mathcal{E}|`.
        """
        if self.num_sampled_neighbors is None:
            return edge_index
        # float64 keys: group_argsort offsets them by 2·dst, and float32 would leave only ~10 bits
        # of randomness per group at the ~6.6k genes of the yeast index.
        keys = torch.rand(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
        rank = group_argsort(keys, edge_index[1], num_groups=num_nodes)
        return edge_index[:, rank < self.num_sampled_neighbors]

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        sampling = self.samples_neighbors
        if (sampling or self.add_self_loops) and (not isinstance(edge_index, Tensor)
                                                  or is_sparse(edge_index)):
            raise TypeError("neighbour sampling and add_self_loops need a dense (2, E) "
                            f"edge_index, got {type(edge_index).__name__}")
        num_nodes = x.size(0)
        if self.add_self_loops:
            edge_index, _ = remove_self_loops(edge_index)
            edge_index, _ = add_self_loops_fn(edge_index, num_nodes=num_nodes)
        for conv in self.convs:
            layer_edges = self.sample_neighbors(edge_index, num_nodes) if sampling else edge_index
            x = self.act(conv(x, layer_edges))
        return x

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_layers={self.num_layers}, "
                f"activation={self.activation!r}, "
                f"num_sampled_neighbors={self.num_sampled_neighbors}, "
                f"add_self_loops={self.add_self_loops}, sample_in_eval={self.sample_in_eval})")


class ReconstructionHead(nn.Module):
    r"""Predicts gene :math:`i`'s adjacency row in network :math:`k` from its GNN embedding
    (spec §2, "Reconstruction head"):

    .. math::
        \widehat{\mathbf{w}}^{(k)}_{i\bullet} = \mathrm{FC}\left(\mathbf{H}^{(2)}_i\right),

    where FC is either one linear layer (``hidden=None``) or ``Linear(dim, hidden)`` →
    :math:`\sigma` → linear (the original code: ``hidden = dim``, swish). The last linear layer is
    the attribute :attr:`out`, and :meth:`features` returns its input, so
    ``head(h) == head.out(head.features(h))`` (a loss can then be computed in closed form from
    ``out.weight`` and ``out.bias``).

    Args:
        dim (int): Size :math:`D` of the gene embedding.
        num_genes (int): Width :math:`G` of the predicted row (the number of target columns).
        hidden (int, optional): Width of the hidden layer; :obj:`None` for none.
            (default: :obj:`None`)
        activation (str, optional): :math:`\sigma` of the hidden layer. (default: :obj:`"relu"`)

    Shapes:
        - **input:** gene embeddings :math:`(B, D)`
        - **output:** predicted rows :math:`(B, G)`; :meth:`features` gives :math:`(B, F)` with
          :math:`F` = ``hidden`` or :math:`D`
    """

    def __init__(
        self,
        dim: int,
        num_genes: int,
        hidden: int | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        _check_positive("dim", dim)
        _check_positive("num_genes", num_genes)
        _check_positive("hidden", hidden, allow_none=True)
        self.dim = dim
        self.num_genes = num_genes
        self.hidden = hidden
        self.activation = activation
        self.lin_hidden = nn.Linear(dim, hidden) if hidden is not None else None
        self.act = activation_from_name(activation)
        self.out = nn.Linear(hidden if hidden is not None else dim, num_genes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.lin_hidden is not None:
            self.lin_hidden.reset_parameters()
        self.out.reset_parameters()

    def features(self, h: Tensor) -> Tensor:
        """The input to :attr:`out`: :math:`(B, D) \\to (B, F)`."""
        if self.lin_hidden is None:
            return h
        return self.act(self.lin_hidden(h))

    def forward(self, h: Tensor) -> Tensor:
        return self.out(self.features(h))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, {self.num_genes}, hidden={self.hidden}, "
                f"activation={self.activation!r})")


def weighted_mse_sparse(features: Tensor, out: nn.Linear, owner: Tensor, col: Tensor,
                        value: Tensor, lam: float, form: str = "spec") -> Tensor:
    r"""The reconstruction loss over all :math:`G` columns, exactly, at sparse cost.

    With a linear last layer, the predicted row is :math:`x = W f + b` (:math:`W` = ``out.weight``
    (G, F), :math:`b` = ``out.bias``, :math:`f` = ``head.features(h)``). The zero entries'
    error is the whole row's squared norm minus that of its non-zero positions, and the norm
    has a closed form:

    .. math::
        \sum_{n: z_n = 0} x_n^2 = \lVert x \rVert^2 - \sum_{n: z_n \ne 0} x_n^2, \qquad
        \lVert x \rVert^2 = f^\top (W^\top W) f + 2\, b^\top W f + \lVert b \rVert^2,

    so a row costs :math:`O(\mathrm{nnz} \cdot F)` plus a shared :math:`O(G F^2)` Gram matrix,
    instead of :math:`O(G F)` per row for the dense (B, G) prediction. Equal to
    :func:`weighted_mse` (``form="spec"``) or :func:`weighted_mse_original` (``"original"``)
    on ``out(features)`` and the dense targets, loss and gradients alike.

    Args:
        features (torch.Tensor): :math:`(B, F)` inputs to ``out``, one per target row.
        out (torch.nn.Linear): The head's last layer, :math:`F \to G`.
        owner (torch.Tensor): :math:`(\mathrm{nnz},)` row (0..B-1) of each non-zero target.
        col (torch.Tensor): :math:`(\mathrm{nnz},)` its column (0..G-1); unique per row.
        value (torch.Tensor): :math:`(\mathrm{nnz},)` its value (exact zeros are ignored).
        lam (float): :math:`\lambda`, the weight of the zero entries.
        form (str): ``"spec"`` or ``"original"``.

    Returns:
        A scalar tensor.
    """
    if form not in ("spec", "original"):
        raise ValueError(f"form must be 'spec' or 'original', got {form!r}")
    keep = value != 0
    owner, col, value = owner[keep], col[keep], value[keep]
    weight, bias = out.weight, out.bias
    num_rows, num_cols = features.shape[0], weight.shape[0]
    x_nz, owner, col, value = _predictions_at(features, weight, owner, col, value, num_rows)
    if bias is not None:
        x_nz = x_nz + bias[col]
    # ||W f + b||^2 per row, without forming the (B, G) prediction.
    norm = ((features @ (weight.t() @ weight)) * features).sum(-1)
    if bias is not None:
        norm = norm + 2.0 * (features @ (weight.t() @ bias)) + bias.square().sum()
    err_nonzero = torch.zeros(num_rows, dtype=features.dtype, device=features.device)
    err_nonzero = err_nonzero.index_add(0, owner, (x_nz - value).square())
    err_zero = norm - torch.zeros_like(norm).index_add(0, owner, x_nz.square())
    if form == "spec":
        return ((err_nonzero + lam * err_zero) / num_cols).mean()
    nnz = torch.bincount(owner, minlength=num_rows).to(features.dtype)
    return (err_nonzero / nnz.clamp(min=1)
            + lam * err_zero / (num_cols - nnz).clamp(min=1)).mean()


def row_pointer(rows: Tensor, num_rows: int) -> Tensor:
    """CSR row pointer (``num_rows + 1``,) of entries sorted by ``rows``."""
    pointer = torch.zeros(num_rows + 1, dtype=torch.long, device=rows.device)
    pointer[1:] = torch.cumsum(torch.bincount(rows, minlength=num_rows), 0)
    return pointer


def _predictions_at(features: Tensor, weight: Tensor, owner: Tensor, col: Tensor,
                    value: Tensor, num_rows: int) -> tuple[Tensor, ...]:
    """``features[owner] · weight[col]`` for every non-zero target, as a sampled dense-dense
    product on a CSR pattern (SDDMM): ~5x faster than gathering (nnz, F) rows. Returns the
    entries in CSR (row, column) order, with owner, col and value."""
    key = owner * weight.shape[0] + col
    if key.numel() > 1 and bool((key[1:] <= key[:-1]).any()):
        order = torch.argsort(key)
        owner, col, value = owner[order], col[order], value[order]
    x_nz = _SampledProduct.apply(features, weight, row_pointer(owner, num_rows), col, owner)
    return x_nz, owner, col, value


class _SampledProduct(torch.autograd.Function):
    r""":math:`x_e = F_{\mathrm{row}(e)} \cdot W_{\mathrm{col}(e)}` on a CSR pattern, forward by
    ``torch.sparse.sampled_addmm``. The backward is two sparse-dense products,
    :math:`\partial F = S W` and :math:`\partial W = S^\top F` (:math:`S` = the pattern holding
    the incoming gradient), with :math:`S^\top` built from one stable sort of the columns:
    2-3x faster on CPU than ``sampled_addmm``'s own backward, which converts layouts."""

    @staticmethod
    def forward(ctx, features: Tensor, weight: Tensor, crow: Tensor, col: Tensor,
                owner: Tensor) -> Tensor:
        shape = (features.shape[0], weight.shape[0])
        pattern = torch.sparse_csr_tensor(
            crow, col, torch.zeros(col.numel(), dtype=features.dtype, device=features.device),
            shape)
        ctx.save_for_backward(features, weight, crow, col, owner)
        return torch.sparse.sampled_addmm(pattern, features, weight.t(), beta=0.0).values()

    @staticmethod
    def backward(ctx, grad: Tensor):
        features, weight, crow, col, owner = ctx.saved_tensors
        grad_features = grad_weight = None
        if ctx.needs_input_grad[0]:
            rows = torch.sparse_csr_tensor(crow, col, grad, (features.shape[0], weight.shape[0]))
            grad_features = rows @ weight
        if ctx.needs_input_grad[1]:
            by_col = torch.argsort(col, stable=True)
            cols = torch.sparse_csr_tensor(row_pointer(col, weight.shape[0]), owner[by_col],
                                           grad[by_col], (weight.shape[0], features.shape[0]))
            grad_weight = cols @ features
        return grad_features, grad_weight, None, None, None


def _check_same_shape(pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")


def weighted_mse(pred: Tensor, target: Tensor, lam: float) -> Tensor:
    r"""DANGO's reconstruction loss as written in the paper (spec §2), averaged over rows:

    .. math::
        L_i = \frac{1}{G} \sum_{n=1}^{G} \left[(x_n - z_n)^2\, \mathbb{I}(z_n \ne 0)
        + \lambda\, (x_n - z_n)^2\, \mathbb{I}(z_n = 0)\right],

    with :math:`x` = ``pred`` and :math:`z` = ``target``.

    Args:
        pred (torch.Tensor): Predicted rows :math:`(B, G)`.
        target (torch.Tensor): Target rows :math:`(B, G)`; exact zeros are "no edge".
        lam (float): :math:`\lambda`, the weight of the zero entries.

    Returns:
        A scalar tensor.
    """
    _check_same_shape(pred, target)
    sq = (pred - target).square()
    weight = torch.where(target != 0, torch.ones_like(sq), torch.full_like(sq, lam))
    return (weight * sq).mean(dim=-1).mean()


def weighted_mse_original(pred: Tensor, target: Tensor, lam: float) -> Tensor:
    r"""The original code's reconstruction loss (``utils.sparse_mse``), averaged over rows:

    .. math::
        L_i = \frac{\sum_n (x_n - z_n)^2 \mathbb{I}(z_n \ne 0)}{\sum_n \mathbb{I}(z_n \ne 0)}
        + \lambda \frac{\sum_n (x_n - z_n)^2 \mathbb{I}(z_n = 0)}{\sum_n \mathbb{I}(z_n = 0)},

    where a term whose denominator is zero (a row with no non-zero, or no zero, entries)
    contributes 0.

    Args:
        pred (torch.Tensor): Predicted rows :math:`(B, G)`.
        target (torch.Tensor): Target rows :math:`(B, G)`.
        lam (float): :math:`\lambda`.

    Returns:
        A scalar tensor.
    """
    _check_same_shape(pred, target)
    sq = (pred - target).square()
    nonzero = target != 0
    zero = ~nonzero
    err_nonzero = torch.where(nonzero, sq, 0.0).sum(-1) / nonzero.sum(-1).clamp(min=1)
    err_zero = torch.where(zero, sq, 0.0).sum(-1) / zero.sum(-1).clamp(min=1)
    return (err_nonzero + lam * err_zero).mean()


# ---------------------------------------------------------------------------------------------
# §3 Meta-embedding
# ---------------------------------------------------------------------------------------------


class MetaEmbedding(nn.Module):
    r"""Attention over networks that merges the per-network embeddings (spec §3):

    .. math::
        \alpha^{(k)}_i = \frac{\exp\left(\mathrm{MLP}(\mathbf{E}^{(k)}_i)\right)}
        {\sum_{k'} \exp\left(\mathrm{MLP}(\mathbf{E}^{(k')}_i)\right)}, \qquad
        \mathbf{E}_i = \sum_{k=1}^{K} \alpha^{(k)}_i \mathbf{E}^{(k)}_i.

    The score MLP is shared by all networks: ``Linear(dim, hidden)`` → :math:`\sigma` →
    ``Linear(hidden, 1)`` (the paper's "two FC layers"), or a single ``Linear(dim, 1)`` with
    ``hidden=None`` (the original code).

    Args:
        dim (int): Embedding size :math:`D`.
        num_networks (int): Number of networks :math:`K`.
        hidden (int, optional): Hidden width of the score MLP; :obj:`None` for a single linear
            layer. (default: :obj:`None`)
        activation (str, optional): :math:`\sigma` of the hidden layer. (default: :obj:`"relu"`)

    Shapes:
        - **input:** embeddings :math:`(K, N, D)` or a list of :math:`K` tensors :math:`(N, D)`
        - **outputs:** merged embeddings :math:`(N, D)`, attention weights :math:`(N, K)`
          (rows sum to 1)
    """

    def __init__(
        self,
        dim: int,
        num_networks: int,
        hidden: int | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        _check_positive("dim", dim)
        _check_positive("num_networks", num_networks)
        _check_positive("hidden", hidden, allow_none=True)
        self.dim = dim
        self.num_networks = num_networks
        self.hidden = hidden
        self.activation = activation
        if hidden is None:
            self.score = nn.Sequential(nn.Linear(dim, 1))
        else:
            self.score = nn.Sequential(nn.Linear(dim, hidden), activation_from_name(activation),
                                       nn.Linear(hidden, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.score:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(self, embeddings: Tensor | Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        if not isinstance(embeddings, Tensor):
            embeddings = torch.stack(list(embeddings), dim=0)
        if (embeddings.dim() != 3 or embeddings.size(0) != self.num_networks
                or embeddings.size(-1) != self.dim):
            raise ValueError(f"expected embeddings of shape ({self.num_networks}, N, {self.dim}), "
                             f"got {tuple(embeddings.shape)}")
        weights = self.score(embeddings).squeeze(-1).softmax(dim=0).t()  # (N, K)
        merged = torch.einsum("nk,knd->nd", weights, embeddings)
        return merged, weights

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_networks={self.num_networks}, "
                f"hidden={self.hidden}, activation={self.activation!r})")


# ---------------------------------------------------------------------------------------------
# §4 Hyper-SAGNN
# ---------------------------------------------------------------------------------------------


def _resolve_mask(x: Tensor, mask: OptTensor) -> Tensor:
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask must have shape {tuple(x.shape[:2])} (B, S), "
                         f"got {tuple(mask.shape)}")
    return mask.bool()


class SetSelfAttention(nn.Module):
    r"""One multi-head self-attention layer over the genes of each set, with a ReZero residual
    (spec §4.1; `Hyper-SAGNN <https://arxiv.org/abs/1911.02613>`_,
    `ReZero <https://arxiv.org/abs/2003.04887>`_):

    .. math::
        \tilde\alpha^{h}_{i \gets j} = \frac{(\mathbf{W}^h_Q \mathbf{x}_i)^\top
        (\mathbf{W}^h_K \mathbf{x}_j)}{\sqrt{d_k}}, \qquad
        \hat{\mathbf{d}}_i = \sigma\left(\mathbf{W}_O \,\Big\Vert_{h=1}^{H}
        \sum_{j \in \mathcal{A}(i)} \mathrm{softmax}_j(\tilde\alpha^{h}_{i \gets j})\,
        \mathbf{W}^h_V \mathbf{x}_j\right), \qquad
        \mathbf{d}_i = \beta\, \hat{\mathbf{d}}_i + \mathbf{x}_i,

    where :math:`\mathcal{A}(i)` is the set's real genes other than :math:`i` (``self_mask=True``,
    the paper) or including :math:`i` (``self_mask=False``, the original code), and
    :math:`\beta` is a learnable scalar initialised at ``rezero_init`` (0). Padding never
    contributes; a row with no admissible key (a padding slot, or a single gene under
    ``self_mask``) gets zero attention output instead of NaN. :math:`\mathbf{W}_{Q,K,V}` have no
    bias, as in the original code.

    Args:
        dim (int): Embedding size :math:`D`.
        num_heads (int, optional): Number of heads :math:`H`. (default: :obj:`4`)
        head_dim (int, optional): Per-head size :math:`d_k = d_v`; :obj:`None` means :math:`D`
            (spec §4 notes and the original code). Set ``dim // num_heads`` for the
            :class:`torch.nn.MultiheadAttention` convention. (default: :obj:`None`)
        activation (str, optional): :math:`\sigma`. (default: :obj:`"relu"`)
        self_mask (bool, optional): Forbid attention of a gene to itself. (default: :obj:`True`)
        dropout (float, optional): Dropout on :math:`\hat{\mathbf{d}}_i`. (default: :obj:`0.0`)
        rezero_init (float, optional): Initial :math:`\beta`. (default: :obj:`0.0`)

    Shapes:
        - **inputs:** gene embeddings :math:`(B, S, D)`, mask :math:`(B, S)` (bool, True = real
          gene; optional)
        - **output:** :math:`(B, S, D)`
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 4,
        head_dim: int | None = None,
        activation: str = "relu",
        self_mask: bool = True,
        dropout: float = 0.0,
        rezero_init: float = 0.0,
    ) -> None:
        super().__init__()
        _check_positive("dim", dim)
        _check_positive("num_heads", num_heads)
        _check_positive("head_dim", head_dim, allow_none=True)
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim if head_dim is None else head_dim
        self.activation = activation
        self.self_mask = self_mask
        self.rezero_init = rezero_init
        inner = num_heads * self.head_dim
        self.lin_q = nn.Linear(dim, inner, bias=False)
        self.lin_k = nn.Linear(dim, inner, bias=False)
        self.lin_v = nn.Linear(dim, inner, bias=False)
        self.lin_out = nn.Linear(inner, dim)
        self.act = activation_from_name(activation)
        self.dropout = nn.Dropout(dropout)
        self.beta = nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin_q, self.lin_k, self.lin_v, self.lin_out):
            lin.reset_parameters()
        with torch.no_grad():
            self.beta.fill_(self.rezero_init)

    def attention_mask(self, mask: Tensor) -> Tensor:
        """``allowed[b, i, j]``: may gene ``i`` of set ``b`` attend to gene ``j``? (B, S, S)."""
        size = mask.size(-1)
        allowed = mask.unsqueeze(-2).expand(-1, size, -1)
        if self.self_mask:
            allowed = allowed & ~torch.eye(size, dtype=torch.bool, device=mask.device)
        return allowed

    def attend(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        r""":math:`\hat{\mathbf{d}}` before dropout and ReZero: :math:`(B, S, D)`."""
        mask = _resolve_mask(x, mask)
        batch, size, _ = x.shape
        heads = (batch, size, self.num_heads, self.head_dim)
        q = self.lin_q(x).view(heads).transpose(1, 2)  # (B, H, S, d_k)
        k = self.lin_k(x).view(heads).transpose(1, 2)
        v = self.lin_v(x).view(heads).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)  # (B, H, S, S)
        allowed = self.attention_mask(mask).unsqueeze(1)
        # A finite fill keeps fully masked rows NaN-free; they are zeroed after the softmax.
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        attn = scores.softmax(dim=-1).masked_fill(~allowed, 0.0)
        out = (attn @ v).transpose(1, 2).reshape(batch, size, -1)
        return self.act(self.lin_out(out))

    def forward(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        return self.beta * self.dropout(self.attend(x, mask)) + x

    # --- inference on full sets, with the projections folded -------------------------------
    def folded_weights(self) -> tuple[Tensor, Tensor]:
        r"""The layer's four projections folded into two :math:`(D, H D)` matrices, for
        :meth:`forward_folded`. Per head :math:`h`,

        .. math::
            \tilde\alpha^{h}_{i \gets j} = \mathbf{x}_i^\top \boldsymbol{\kappa}^h_j, \quad
            \boldsymbol{\kappa}^h_j = \frac{{\mathbf{W}^h_Q}^\top \mathbf{W}^h_K}{\sqrt{d_k}}
            \mathbf{x}_j, \qquad
            \mathbf{W}_O \Big\Vert_h \sum_j \alpha^h_{i \gets j} \mathbf{W}^h_V \mathbf{x}_j
            = \sum_h \sum_j \alpha^h_{i \gets j} \boldsymbol{\nu}^h_j, \quad
            \boldsymbol{\nu}^h_j = \mathbf{W}^h_O \mathbf{W}^h_V \mathbf{x}_j,

        so a gene costs :math:`2 H D^2` multiply-adds (:math:`\kappa`, :math:`\nu`) instead of
        :math:`4 H d_k D` (Q, K, V, O): half at the default :math:`d_k = D`. Both depend on the
        gene alone, so a first layer's can be cached per gene. Returns the matrices that map
        :math:`\mathbf{x}` (as a row) to :math:`\Vert_h \kappa^h` and :math:`\Vert_h \nu^h`."""
        heads, dk, dim = self.num_heads, self.head_dim, self.dim
        w_q = self.lin_q.weight.view(heads, dk, dim)
        w_k = self.lin_k.weight.view(heads, dk, dim)
        w_v = self.lin_v.weight.view(heads, dk, dim)
        w_o = self.lin_out.weight.view(dim, heads, dk)
        keys = torch.einsum("hkd,hke->ehd", w_q, w_k) / math.sqrt(dk)
        values = torch.einsum("ohk,hke->eho", w_o, w_v)
        return keys.reshape(dim, heads * dim), values.reshape(dim, heads * dim)

    def forward_folded(self, x: Tensor, keys: Tensor, values: Tensor) -> Tensor:
        r""":meth:`forward` in eval mode for full sets (no padding) :math:`(B, S, D)`, from
        ``keys``, ``values`` = ``x`` times :meth:`folded_weights`, :math:`(B, S, H D)` each.
        Two batched products, no head transposes (which cost as much as the products)."""
        batch, size, dim = x.shape
        pairs = (batch, size * self.num_heads, dim)
        scores = torch.bmm(x, keys.reshape(pairs).transpose(1, 2))
        scores = scores.view(batch, size, size, self.num_heads)  # (B, i, j, H)
        if self.self_mask:
            own = torch.eye(size, dtype=torch.bool, device=x.device).view(1, size, size, 1)
            scores = scores.masked_fill(own, float("-inf"))
        attn = scores.softmax(dim=2).view(batch, size, size * self.num_heads)
        out = torch.bmm(attn, values.reshape(pairs)) + self.lin_out.bias
        return self.beta * self.act(out) + x

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_heads={self.num_heads}, "
                f"head_dim={self.head_dim}, activation={self.activation!r}, "
                f"self_mask={self.self_mask})")


class HyperSAGNN(nn.Module):
    r"""Scores a gene set from its genes' embeddings (spec §4; `Hyper-SAGNN
    <https://arxiv.org/abs/1911.02613>`_ with `ReZero <https://arxiv.org/abs/2003.04887>`_).

    Static embedding :math:`\mathbf{s}_i = \sigma(\mathbf{W}_s \mathbf{E}_i + \mathbf{b}_s)`;
    dynamic embedding :math:`\mathbf{d}_i` from ``num_layers`` :class:`SetSelfAttention` layers
    (§4.1) applied to the set's :math:`\mathbf{E}`. Two output modes (§4.2):

    - ``output="diff"`` (paper):
      :math:`y_i = \mathrm{FC}\left((\mathbf{d}_i - \mathbf{s}_i) \circ
      (\mathbf{d}_i - \mathbf{s}_i)\right)`, :math:`\hat\tau = \frac{1}{|S|}\sum_{i \in S} y_i`;
    - ``output="dynamic"`` (original code):
      :math:`y_i = \mathrm{FC}(\mathrm{LayerNorm}(\mathbf{d}_i))`,
      :math:`\hat\tau = \sum_{i \in S} y_i`. The static branch is not built in this mode, so
      every parameter is used (DDP needs no ``find_unused_parameters``).

    Sets of different sizes share a batch by padding: ``mask`` marks the real genes, padding
    slots are zeroed, never attended to and never pooled, so a set's score does not depend on
    what is padded around it, and it is invariant to the order of the set's genes.

    Args:
        dim (int): Embedding size :math:`D`.
        num_heads (int, optional): Attention heads. (default: :obj:`4`)
        num_layers (int, optional): Self-attention layers. (default: :obj:`2`)
        activation (str, optional): :math:`\sigma`. (default: :obj:`"relu"`)
        self_mask (bool, optional): Genes attend only to the other genes of their set.
            (default: :obj:`True`)
        output (str, optional): ``"diff"`` or ``"dynamic"``. (default: :obj:`"diff"`)
        dropout (float, optional): Dropout on each layer's attention output.
            (default: :obj:`0.0`)
        rezero_init (float, optional): Initial ReZero :math:`\beta` of every layer.
            (default: :obj:`0.0`)
        head_dim (int, optional): Per-head size; :obj:`None` means :math:`D`.
            (default: :obj:`None`)

    Shapes:
        - **inputs:** gene embeddings :math:`(B, S, D)`, mask :math:`(B, S)` (bool, True = real
          gene, at least 2 per set; optional, default all True)
        - **output:** set scores :math:`(B,)`; :meth:`node_scores` gives :math:`(B, S)`
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 4,
        num_layers: int = 2,
        activation: str = "relu",
        self_mask: bool = True,
        output: str = "diff",
        dropout: float = 0.0,
        rezero_init: float = 0.0,
        head_dim: int | None = None,
    ) -> None:
        super().__init__()
        _check_positive("dim", dim)
        if num_layers < 0:
            raise ValueError(f"num_layers must be >= 0, got {num_layers}")
        if output not in OUTPUT_MODES:
            raise ValueError(f"output must be one of {OUTPUT_MODES}, got {output!r}")
        self.dim = dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.activation = activation
        self.self_mask = self_mask
        self.output = output
        self.layers = nn.ModuleList([
            SetSelfAttention(dim, num_heads=num_heads, head_dim=head_dim, activation=activation,
                             self_mask=self_mask, dropout=dropout, rezero_init=rezero_init)
            for _ in range(num_layers)
        ])
        self.lin_static = nn.Linear(dim, dim) if output == "diff" else None
        self.norm = nn.LayerNorm(dim) if output == "dynamic" else None
        self.act = activation_from_name(activation)
        self.lin_out = nn.Linear(dim, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()
        if self.lin_static is not None:
            self.lin_static.reset_parameters()
        if self.norm is not None:
            self.norm.reset_parameters()
        self.lin_out.reset_parameters()

    def static(self, x: Tensor) -> Tensor:
        r""":math:`\mathbf{s} = \sigma(\mathbf{W}_s \mathbf{E} + \mathbf{b}_s)`, shape kept."""
        if self.lin_static is None:
            raise RuntimeError("the static branch exists only with output='diff'")
        return self.act(self.lin_static(x))

    def dynamic(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        r""":math:`\mathbf{d}` after all attention layers, :math:`(B, S, D)`."""
        mask = _resolve_mask(x, mask)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def node_scores(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        r"""Per-gene scores :math:`y_i`, :math:`(B, S)`; padding slots are 0."""
        mask = _resolve_mask(x, mask)
        x = x.masked_fill(~mask.unsqueeze(-1), 0.0)
        d = self.dynamic(x, mask)
        if self.output == "diff":
            h = (d - self.static(x)).square()
        else:
            h = self.norm(d)
        return self.lin_out(h).squeeze(-1).masked_fill(~mask, 0.0)

    def forward(self, x: Tensor, mask: OptTensor = None) -> Tensor:
        mask = _resolve_mask(x, mask)
        total = self.node_scores(x, mask).sum(dim=-1)
        if self.output == "dynamic":
            return total
        return total / mask.sum(dim=-1).clamp(min=1)

    def gene_cache(self, embedding: Tensor) -> dict[str, Any]:
        r"""The parts of a set's score that depend on single genes of ``embedding``
        :math:`(G, D)`, for scoring many full sets over the same genes with
        :meth:`score_cached`: every layer's folded weights
        (:meth:`SetSelfAttention.folded_weights`), the first layer's folded projections of
        each gene, and the static embedding."""
        folded = [layer.folded_weights() for layer in self.layers]
        return {"x": embedding, "folded_weights": folded,
                "first_layer": tuple(embedding @ w for w in folded[0]) if folded else None,
                "static": self.static(embedding) if self.output == "diff" else None}

    def score_cached(self, cache: dict[str, Any], genes: Tensor) -> Tensor:
        r""":meth:`forward` in eval mode for full sets (no padding) of gene indices
        :math:`(B, S)`, through :meth:`SetSelfAttention.forward_folded` with per-gene parts
        from :meth:`gene_cache`: about 5x the sets per second of :meth:`forward` on CPU."""
        d = cache["x"][genes]
        for index, (layer, weights) in enumerate(zip(self.layers, cache["folded_weights"],
                                                     strict=True)):
            if index == 0:
                keys, values = (t[genes] for t in cache["first_layer"])
            else:
                keys, values = (d @ w for w in weights)
            d = layer.forward_folded(d, keys, values)
        h = (d - cache["static"][genes]).square() if self.output == "diff" else self.norm(d)
        total = self.lin_out(h).squeeze(-1).sum(dim=-1)
        return total if self.output == "dynamic" else total / genes.shape[1]

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.dim}, num_heads={self.num_heads}, "
                f"num_layers={self.num_layers}, activation={self.activation!r}, "
                f"self_mask={self.self_mask}, output={self.output!r})")


# ---------------------------------------------------------------------------------------------
# The full model
# ---------------------------------------------------------------------------------------------


class Dango(nn.Module):
    r"""DANGO (spec §2–§4): a shared gene embedding table :math:`\mathbf{H}^{(0)}` (the learned
    one-hot lookup), one :class:`NetworkEncoder` and one :class:`ReconstructionHead` per
    pairwise network, a :class:`MetaEmbedding` over the networks and a :class:`HyperSAGNN` that
    scores gene sets of any size.

    Each forward runs every network's GNN once over all genes (:meth:`encode`); the trainer
    reuses ``node_embeddings`` from :meth:`forward` for the reconstruction losses
    (:meth:`reconstruct` + :func:`weighted_mse`) so both losses share one GNN pass. The
    interaction loss (log-cosh, spec §5) is the trainer's.

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
        meta_hidden (int, optional): Hidden width of the meta-embedding score MLP.
            (default: :obj:`None`)
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
        meta_hidden: int | None = None,
        num_sampled_neighbors: int | None = None,
        add_self_loops: bool = False,
        dropout: float = 0.0,
        sample_in_eval: bool = False,
        head_dim: int | None = None,
    ) -> None:
        super().__init__()
        _check_positive("num_genes", num_genes)
        _check_positive("num_networks", num_networks)
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
        self.meta = MetaEmbedding(dim, num_networks, hidden=meta_hidden, activation=activation)
        self.hyper = HyperSAGNN(dim, num_heads=num_heads, num_layers=num_attention_layers,
                                activation=activation, self_mask=self_mask, output=output,
                                dropout=dropout, head_dim=head_dim)
        self.reset_parameters()

    @classmethod
    def original(cls, num_genes: int, num_networks: int, dim: int = 128,
                 **kwargs: Any) -> Dango:
        """The original code's configuration (``variant: original``; reference/dango.md §1).

        One attention layer with 8 heads and no self-mask, ``output="dynamic"`` (LayerNorm →
        FC, summed over the set), swish, 5 sampled neighbours with self-loops, reconstruction
        heads with one hidden layer of width ``dim``, a single-linear meta-embedding score.
        Keyword arguments override any of these.
        """
        config: dict[str, Any] = {
            "num_heads": 8,
            "num_attention_layers": 1,
            "activation": "swish",
            "self_mask": False,
            "output": "dynamic",
            "recon_hidden": dim,
            "meta_hidden": None,
            "num_sampled_neighbors": 5,
            "add_self_loops": True,
        }
        config.update(kwargs)
        return cls(num_genes, num_networks, dim=dim, **config)

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
