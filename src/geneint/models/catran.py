"""CaTran: gene-network inference from single cells with learned gene embeddings.

CaTran (Bakulin, CausalBench challenge 2023; the final commit of ``catran.py``) learns a gene
embedding E and reads gene–gene attention from it, A = σ(E·Eᵀ), with no query/key projections.
A cell's sampled genes are tokens [expression ‖ embedding] → Linear → BatchNorm; one shared
attention block (tokens propagated through A, then BatchNorm over the feature axis) is applied
``blocks`` (11) times, and Linear → BatchNorm → SiLU → Linear gives one value per gene. It is
trained to restore hidden (shuffled) expression values; the network is read off softmax(E·Eᵀ).

That attention is symmetric, so an edge's direction has to come from somewhere else: see
:mod:`geneint.models.network_edges`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class CaTran(nn.Module):
    """Expression of the sampled genes of a batch of cells → predicted expression, attention."""

    def __init__(self, n_genes: int, embedding_dim: int = 40, blocks: int = 11) -> None:
        super().__init__()
        width = embedding_dim + 1
        self.blocks = blocks
        self.embedding = nn.Embedding(n_genes, embedding_dim)
        self.token = nn.Linear(width, width)
        self.token_norm = nn.BatchNorm1d(width)
        self.block_norm = nn.BatchNorm1d(width)
        self.head = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.SiLU(),
                                  nn.Linear(width, 1))
        nn.init.normal_(self.embedding.weight, std=0.1)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=1e-4)
                nn.init.zeros_(module.bias)

    def attention(self, genes: torch.Tensor) -> torch.Tensor:
        """σ(E·Eᵀ) over ``genes``: [S, S], symmetric."""
        embedding = self.embedding(genes)
        return torch.sigmoid(embedding @ embedding.T)

    def _norm(self, norm: nn.BatchNorm1d, tokens: torch.Tensor) -> torch.Tensor:
        return norm(tokens.reshape(-1, tokens.shape[-1])).reshape(tokens.shape)

    def forward(self, expression: torch.Tensor, genes: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``expression`` [B, S] of the genes ``genes`` [S] → (prediction [B, S], A [S, S])."""
        cells = expression.shape[0]
        embedding = self.embedding(genes).expand(cells, -1, -1)
        tokens = torch.cat([expression.unsqueeze(-1), embedding], dim=-1)
        tokens = self._norm(self.token_norm, self.token(tokens))
        attention = self.attention(genes)
        for _ in range(self.blocks):
            tokens = self._norm(self.block_norm, torch.einsum("ts,bsw->btw", attention, tokens))
        width = tokens.shape[-1]
        prediction = self.head(tokens.reshape(-1, width)).reshape(cells, -1)
        return prediction, attention

    @torch.no_grad()
    def adjacency(self) -> np.ndarray:
        """softmax(E·Eᵀ) over every gene, normalised over each target's incoming edges:
        ``[target, source]``."""
        weight = self.embedding.weight
        return torch.softmax(weight @ weight.T, dim=1).cpu().numpy()


def hide_genes(expression: torch.Tensor, fraction: float, generator: torch.Generator | None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide ``fraction`` of each cell's genes: their values are shuffled among all hidden
    positions of the batch (across cells and genes, as the original does). Returns (masked
    expression, hidden mask)."""
    cells, genes = expression.shape
    n_hidden = max(1, int(fraction * genes))
    order = torch.rand(cells, genes, generator=generator, device=expression.device).argsort(1)
    hidden = torch.zeros_like(expression, dtype=torch.bool).scatter(1, order[:, :n_hidden],
                                                                    True)
    values = expression[hidden]
    masked = expression.clone()
    masked[hidden] = values[torch.randperm(len(values), generator=generator,
                                           device=expression.device)]
    return masked, hidden


def reconstruction_loss(prediction: torch.Tensor, expression: torch.Tensor,
                        hidden: torch.Tensor, visible_weight: float) -> torch.Tensor:
    """Huber(hidden genes) + visible_weight · Huber(visible genes)."""
    loss = F.huber_loss(prediction[hidden], expression[hidden])
    if visible_weight and (~hidden).any():
        loss = loss + visible_weight * F.huber_loss(prediction[~hidden], expression[~hidden])
    return loss


def interventional_loss(prediction: torch.Tensor, expression: torch.Tensor,
                        attention: torch.Tensor, knocked_down: torch.Tensor) -> torch.Tensor:
    """CaTran's differentiable gene-importance test.

    For each gene g knocked down in some cells of the batch (``knocked_down[c]`` is the
    position of cell c's knocked-down gene among the sampled genes, −1 for none): m₁ = each
    gene's Huber error over the cells with g knocked down, m₂ = over the other cells; the
    attention column of g is pulled towards σ(m₂/m₁ − 1) by MSE. The sum is divided by the
    number of intervention types in the batch minus one (the controls)."""
    errors = F.huber_loss(prediction, expression, reduction="none")
    present = torch.unique(knocked_down[knocked_down >= 0])
    if len(present) == 0:
        return prediction.new_zeros(())
    total = prediction.new_zeros(())
    for g in present:
        cells = knocked_down == g
        if cells.all():
            continue
        m1 = errors[cells].mean(0)
        m2 = errors[~cells].mean(0)
        target = torch.sigmoid(m2 / m1.clamp_min(1e-8) - 1).detach()
        total = total + F.mse_loss(attention[:, g], target)
    types = len(present) + int((knocked_down < 0).any())
    return total / max(1, types - 1)
