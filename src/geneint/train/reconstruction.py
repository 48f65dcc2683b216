"""DANGO's network reconstruction as a loss: per-network pretraining and the auxiliary loss of
joint training (docs/dango.md §2 and §5.2: each network's GNN embedding predicts the gene's
adjacency row)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from geneint.graphs.adjacency import AdjacencyRows
from geneint.models.layers import (
    RECONSTRUCTION_FORMS,
    ReconstructionHead,
    weighted_mse,
    weighted_mse_original,
    weighted_mse_sparse,
)

DENSE_LOSSES = {"spec": weighted_mse, "original": weighted_mse_original}
#: ``sparse``: exact over all G columns at O(nnz) cost; ``dense``: the (B, G) reference.
RECONSTRUCTION_IMPLS = ("sparse", "dense")
#: How the networks' reconstruction losses combine: ``mean`` (spec) or ``sum`` (original code).
RECONSTRUCTION_REDUCTIONS = ("mean", "sum")


def check_reconstruction(form: str, impl: str) -> None:
    if form not in RECONSTRUCTION_FORMS or impl not in RECONSTRUCTION_IMPLS:
        raise ValueError(f"reconstruction loss {form!r} / implementation {impl!r}: use one of "
                         f"{RECONSTRUCTION_FORMS} / {RECONSTRUCTION_IMPLS}")


def reconstruction_loss(head: ReconstructionHead, h_rows: Tensor, targets: AdjacencyRows,
                        rows: Tensor, lam: float, form: str = "spec",
                        impl: str = "sparse") -> Tensor:
    """Weighted MSE between predicted and true adjacency rows ``rows`` of one network.

    ``sparse`` is exact over all G columns at O(nnz) cost (``weighted_mse_sparse``); ``dense``
    builds the (B, G) prediction and targets — the reference form, kept for tests and benchmarks.
    """
    check_reconstruction(form, impl)
    if impl == "dense":
        return DENSE_LOSSES[form](head(h_rows), targets(rows), lam)
    return weighted_mse_sparse(head.features(h_rows), head.out, *targets.sparse(rows), lam, form)


class NetworkReconstruction:
    """Auxiliary loss of joint DANGO training: the reconstruction of ``genes_per_step`` random
    genes' adjacency rows in every network, from the node embeddings of the step's own GNN pass
    (``state["node_embeddings"]``), averaged (or summed) over networks.

    Args:
        lambdas: λ per network, in model order.
        genes_per_step: rows reconstructed per step and network (DANGO: 10 × batch size).
        form, impl: see :func:`reconstruction_loss`.
        reduction: ``mean`` over networks (spec) or ``sum`` (the original code).
    """

    def __init__(self, lambdas: Sequence[float], genes_per_step: int = 960,
                 form: str = "spec", impl: str = "sparse", reduction: str = "mean") -> None:
        check_reconstruction(form, impl)
        if reduction not in RECONSTRUCTION_REDUCTIONS:
            raise ValueError(f"reduction {reduction!r}: use one of {RECONSTRUCTION_REDUCTIONS}")
        self.reduction = reduction
        self.lambdas = list(lambdas)
        self.genes_per_step = genes_per_step
        self.form = form
        self.impl = impl

    def __call__(self, model, state: dict[str, Tensor], graphs) -> Tensor:
        node_embeddings = state["node_embeddings"]
        num_genes = node_embeddings.shape[1]
        n = min(self.genes_per_step, num_genes)
        rows = torch.randperm(num_genes, device=node_embeddings.device)[:n]
        losses = [reconstruction_loss(model.recon_heads[k], node_embeddings[k, rows],
                                      graphs.targets[k], rows, lam, self.form, self.impl)
                  for k, lam in enumerate(self.lambdas)]
        total = torch.stack(losses)
        return total.sum() if self.reduction == "sum" else total.mean()
