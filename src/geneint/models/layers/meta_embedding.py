r"""The meta-embedding of DANGO (docs/dango.md §3): attention over networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from geneint.models.layers.common import activation_from_name, check_positive


class MetaEmbedding(nn.Module):
    r"""Attention over networks that merges the per-network embeddings (docs/dango.md §3):

    .. math::
        \alpha^{(k)}_i = \frac{\exp\left(\mathrm{MLP}(\mathbf{E}^{(k)}_i)\right)}
        {\sum_{k'} \exp\left(\mathrm{MLP}(\mathbf{E}^{(k')}_i)\right)}, \qquad
        \mathbf{E}_i = \sum_{k=1}^{K} \alpha^{(k)}_i \mathbf{E}^{(k)}_i.

    The score MLP is shared by all networks: ``Linear(dim, hidden)`` → :math:`\sigma` →
    ``Linear(hidden, 1)`` (the paper's "two FC layers", the default), or a single
    ``Linear(dim, 1)`` with ``num_layers=1`` (the original code).

    Args:
        dim (int): Embedding size :math:`D`.
        num_networks (int): Number of networks :math:`K`.
        num_layers (int, optional): Layers of the score MLP, 1 or 2. (default: :obj:`2`)
        hidden (int, optional): Hidden width of a 2-layer score MLP; :obj:`None` means
            :math:`D`. (default: :obj:`None`)
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
        num_layers: int = 2,
        hidden: int | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        check_positive("dim", dim)
        check_positive("num_networks", num_networks)
        check_positive("hidden", hidden, allow_none=True)
        if num_layers not in (1, 2):
            raise ValueError(f"num_layers of the meta-embedding score must be 1 or 2, "
                             f"got {num_layers}")
        if num_layers == 1 and hidden is not None:
            raise ValueError("a 1-layer meta-embedding score has no hidden width")
        hidden = dim if num_layers == 2 and hidden is None else hidden
        self.dim = dim
        self.num_networks = num_networks
        self.num_layers = num_layers
        self.hidden = hidden
        self.activation = activation
        # The last layer has no bias: the softmax over networks cancels any shared shift.
        if num_layers == 1:
            self.score = nn.Sequential(nn.Linear(dim, 1, bias=False))
        else:
            self.score = nn.Sequential(nn.Linear(dim, hidden), activation_from_name(activation),
                                       nn.Linear(hidden, 1, bias=False))
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
                f"num_layers={self.num_layers}, hidden={self.hidden}, "
                f"activation={self.activation!r})")

