r"""The interface of neural set models: what
:class:`geneint.train.set_regression.SetRegression` trains.

A training step runs :meth:`SetModel.prepare` once (the whole-genome part: GNNs over every
network, an ontology pass, nothing), then :meth:`SetModel.score` on the step's gene sets. Every
model of the sweep — neural or not — ends in the same file, ``predictions.parquet``; this class
is only the contract between neural models and their one LightningModule.

Why two methods: DANGO and the multi-graph GNN compute gene representations for all genes
once per step and then score many sets from them (and validation reuses one pass for every
batch); DCell has no whole-genome part (``prepare`` returns ``None``) and scores a set from its
perturbation vector. Auxiliary objectives hook in at the same two places: a gene-level loss on
the prepared state, given to the LightningModule as a callable (DANGO's network reconstruction,
:class:`geneint.train.reconstruction.NetworkReconstruction`), or per-set auxiliary predictions
returned by :meth:`score` as a second tensor (DCell's per-term heads).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


class SetModel(nn.Module):
    """Scores gene sets of any size; padded slots (``mask`` False) are ignored.

    Shapes:
        - ``genes``: :math:`(B, S)` int64 gene indices; ``mask``: :math:`(B, S)` bool
        - :meth:`score` output: :math:`(B,)` predictions on the training scale (standardised
          τ), or a pair ``(pred, aux)`` with per-set auxiliary predictions :math:`(B, A)` of
          the same target
    """

    def prepare(self, inputs: Any) -> Any:
        """Per-step state shared by every set of the step (``inputs``: the model's non-module
        tensors, e.g. graphs, already on the module's device)."""
        return None

    def score(self, state: Any, genes: Tensor, mask: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        raise NotImplementedError
