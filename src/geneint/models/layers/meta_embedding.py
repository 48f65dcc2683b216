r"""The meta-embedding of DANGO (spec §3): attention over networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from geneint.models.layers.common import activation_from_name, check_positive


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
        check_positive("dim", dim)
        check_positive("num_networks", num_networks)
        check_positive("hidden", hidden, allow_none=True)
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

