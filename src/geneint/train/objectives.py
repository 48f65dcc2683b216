"""Losses and the α schedules that weight reconstruction against interaction loss.

Joint loss (TorchCell's DANGO trainer, which the user's sweeps used):
``loss = α · reconstruction + (1 − α) · interaction``, with α set per epoch by a schedule:

- ``constant``: α fixed (DANGO's original code adds 0.001 × reconstruction: α ≈ 0.001).
- ``linear_until_uniform``: α falls linearly from 1 to 0.5 over ``alpha_epochs``, then stays 0.5.
- ``pre_then_post``: α = 1 (reconstruction only) for ``alpha_epochs`` epochs, then 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from geneint.models.dango import row_pointer

ALPHA_SCHEDULES = ("constant", "linear_until_uniform", "pre_then_post")


def alpha_at(schedule: str, epoch: int, alpha: float = 0.001, alpha_epochs: int = 10) -> float:
    """α of the joint loss at a (0-based) epoch."""
    if schedule == "constant":
        return alpha
    if alpha_epochs < 1:
        raise ValueError(f"{schedule} needs alpha_epochs >= 1, got {alpha_epochs}")
    if schedule == "linear_until_uniform":
        return 1.0 - 0.5 * min(epoch, alpha_epochs) / alpha_epochs
    if schedule == "pre_then_post":
        return 1.0 if epoch < alpha_epochs else 0.0
    raise ValueError(f"unknown alpha schedule {schedule!r}; choose one of {ALPHA_SCHEDULES}")


def log_cosh(pred: Tensor, target: Tensor) -> Tensor:
    """Mean log(cosh(ŷ − y)) (DANGO eq. 5), in the overflow-free form x + softplus(−2x) − log 2."""
    x = pred - target
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean()


class AdjacencyRows(torch.nn.Module):
    """Row access to a network's weighted adjacency, the reconstruction targets.

    Stored in CSR form (row pointer, columns, weights) as buffers, so it follows the module to
    its device; a dense (G, G) matrix is never built (6,607² floats = 175 MB per network).

    Args:
        edge_index: (2, E) sorted by source (as :class:`~geneint.graphs.network.NetworkGraph`).
        weight: (E,) edge weights.
        num_nodes: G.
    """

    def __init__(self, edge_index: Tensor, weight: Tensor, num_nodes: int) -> None:
        super().__init__()
        src = edge_index[0]
        if src.numel() > 1 and bool((src[1:] < src[:-1]).any()):
            raise ValueError("edge_index must be sorted by source node")
        ptr = row_pointer(src, num_nodes)
        self.num_nodes = num_nodes
        self.register_buffer("ptr", ptr, persistent=False)
        self.register_buffer("col", edge_index[1].clone(), persistent=False)
        self.register_buffer("weight", weight.float().clone(), persistent=False)

    def sparse(self, rows: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(B,) node ids -> the non-zero targets as (owner row 0..B-1, column, weight)."""
        start = self.ptr[rows]
        count = self.ptr[rows + 1] - start
        owner = torch.repeat_interleave(torch.arange(rows.numel(), device=rows.device), count)
        first = torch.repeat_interleave(start - (torch.cumsum(count, 0) - count), count)
        entry = first + torch.arange(owner.numel(), device=rows.device)
        return owner, self.col[entry], self.weight[entry]

    def forward(self, rows: Tensor) -> Tensor:
        """(B,) node ids -> (B, G) dense target rows (the reference form; tests, small G)."""
        owner, col, weight = self.sparse(rows)
        out = torch.zeros(rows.numel(), self.num_nodes, dtype=weight.dtype, device=rows.device)
        out[owner, col] = weight
        return out
