r"""A sampled dense-dense product on a CSR pattern with a hand-written backward: the kernel
behind :func:`~geneint.models.layers.reconstruction.weighted_mse_sparse`."""

from __future__ import annotations

import torch
from torch import Tensor

from geneint.graphs.adjacency import row_pointer


def predictions_at(features: Tensor, weight: Tensor, owner: Tensor, col: Tensor,
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

