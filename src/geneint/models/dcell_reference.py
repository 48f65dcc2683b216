"""DCell as a loop over terms: one ``nn.Linear``, ``BatchNorm1d`` and head per term, in Python,
the way TorchCell and the original code run it.

The reference :class:`~geneint.models.dcell.DCell` is tested against (same outputs from the same
weights, :meth:`DCellPerTerm.from_dcell`) and the baseline of the stratum-batching speed-up in
``bench/dcell_epoch.py``. Not a sweep model.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from geneint.models.base import SetModel
from geneint.models.dcell import DCell


class DCellPerTerm(SetModel):
    """Same constructor arguments and outputs as :class:`~geneint.models.dcell.DCell`."""

    def __init__(self, num_genes: int, children: list[list[int]], genes: list[list[int]],
                 widths: list[int], **_: Any) -> None:
        super().__init__()
        self.num_genes = num_genes
        self.children_of = [list(c) for c in children]
        self.genes_of = [sorted(g) for g in genes]
        self.linears = nn.ModuleList(
            nn.Linear(sum(widths[c] for c in kids) + len(direct), width)
            for kids, direct, width in zip(self.children_of, self.genes_of, widths, strict=True))
        self.norms = nn.ModuleList(nn.BatchNorm1d(w) for w in widths)
        self.heads = nn.ModuleList(nn.Linear(w, 1) for w in widths)

    @classmethod
    def from_dcell(cls, model: DCell, children: list[list[int]],
                   genes: list[list[int]]) -> DCellPerTerm:
        """A per-term copy of ``model``'s weights (and batch-norm state)."""
        ref = cls(model.num_genes, children, genes, model.widths)
        located = {t: (g, i) for g in model.groups for i, t in enumerate(g.terms)}
        with torch.no_grad():
            for t, linear in enumerate(ref.linears):
                group, index = located[t]
                block = group.term_block(index)
                linear.weight.copy_(block["weight"])
                linear.bias.copy_(block["bias"])
                for name, value in block["norm"].items():
                    getattr(ref.norms[t], name).copy_(value)
                ref.heads[t].weight.copy_(block["head_weight"])
                ref.heads[t].bias.copy_(block["head_bias"])
        return ref

    def neurons_per_term(self, genes: Tensor, mask: Tensor,
                         states: Tensor | None = None) -> list[Tensor]:
        x = genes.new_zeros((genes.shape[0], self.num_genes), dtype=torch.float32)
        rows = torch.arange(genes.shape[0], device=genes.device).unsqueeze(1).expand_as(genes)
        values = torch.ones_like(genes, dtype=x.dtype) if states is None else states
        x = x.index_put((rows[mask], genes[mask]), values[mask])
        outs: list[Tensor] = []
        for t, linear in enumerate(self.linears):
            parts = [outs[c] for c in self.children_of[t]] + [x[:, self.genes_of[t]]]
            outs.append(self.norms[t](torch.tanh(linear(torch.cat(parts, dim=1)))))
        return outs

    def score(self, state: Any, genes: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        outs = self.neurons_per_term(genes, mask)
        heads = torch.cat([head(h) for head, h in zip(self.heads, outs, strict=True)], dim=1)
        return heads[:, -1], heads[:, :-1]
