r"""Reconstruction of a gene's adjacency row (docs/dango.md §2.3–§2.4) and its weighted MSE
losses.

:func:`weighted_mse` is the paper's loss, :func:`weighted_mse_original` the original code's;
:func:`weighted_mse_sparse` computes either exactly over all :math:`G` columns at the cost of the
non-zero entries (the dense forms are the references it is tested against).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geneint.models.layers.common import activation_from_name, check_positive
from geneint.models.layers.sampled_product import predictions_at

RECONSTRUCTION_FORMS = ("spec", "original")


class ReconstructionHead(nn.Module):
    r"""Predicts gene :math:`i`'s adjacency row in network :math:`k` from its GNN embedding
    (docs/dango.md §2.3, "Reconstruction head"):

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
        check_positive("dim", dim)
        check_positive("num_genes", num_genes)
        check_positive("hidden", hidden, allow_none=True)
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
    instead of :math:`O(G F)` per row for the dense (B, G) prediction. The difference cancels
    in float32 on dense rows (about :math:`10^{-7} \lVert x \rVert^2` of rounding, of either
    sign): it is clamped at 0, and a row without zero entries gets exactly 0. Equal to
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
    if form not in RECONSTRUCTION_FORMS:
        raise ValueError(f"form must be one of {RECONSTRUCTION_FORMS}, got {form!r}")
    keep = value != 0
    owner, col, value = owner[keep], col[keep], value[keep]
    weight, bias = out.weight, out.bias
    num_rows, num_cols = features.shape[0], weight.shape[0]
    x_nz, owner, col, value = predictions_at(features, weight, owner, col, value, num_rows)
    if bias is not None:
        x_nz = x_nz + bias[col]
    # ||W f + b||^2 per row, without forming the (B, G) prediction.
    norm = ((features @ (weight.t() @ weight)) * features).sum(-1)
    if bias is not None:
        norm = norm + 2.0 * (features @ (weight.t() @ bias)) + bias.square().sum()
    err_nonzero = torch.zeros(num_rows, dtype=features.dtype, device=features.device)
    err_nonzero = err_nonzero.index_add(0, owner, (x_nz - value).square())
    err_zero = norm - torch.zeros_like(norm).index_add(0, owner, x_nz.square())
    nnz = torch.bincount(owner, minlength=num_rows).to(features.dtype)
    err_zero = torch.where(nnz < num_cols, err_zero.clamp(min=0), 0.0)
    if form == "spec":
        return ((err_nonzero + lam * err_zero) / num_cols).mean()
    return (err_nonzero / nnz.clamp(min=1)
            + lam * err_zero / (num_cols - nnz).clamp(min=1)).mean()



def _check_same_shape(pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")


def weighted_mse(pred: Tensor, target: Tensor, lam: float) -> Tensor:
    r"""DANGO's reconstruction loss as written in the paper (docs/dango.md §2.4), averaged over
    rows:

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

