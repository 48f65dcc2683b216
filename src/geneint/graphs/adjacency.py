"""Row access to a network's weighted adjacency in CSR form: the reconstruction targets.

:class:`AdjacencyRows` keeps the (row pointer, columns, weights) of one graph as buffers, so it
follows a module to its device; a dense (G, G) matrix is never built (6,607² floats = 175 MB per
network).
"""

from __future__ import annotations

import torch
from torch import Tensor


def row_pointer(rows: Tensor, num_rows: int) -> Tensor:
    """CSR row pointer (``num_rows + 1``,) of entries sorted by ``rows``."""
    pointer = torch.zeros(num_rows + 1, dtype=torch.long, device=rows.device)
    pointer[1:] = torch.cumsum(torch.bincount(rows, minlength=num_rows), 0)
    return pointer


class AdjacencyRows(torch.nn.Module):
    """Row access to a network's weighted adjacency, the reconstruction targets.

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
