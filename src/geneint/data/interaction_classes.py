"""Interaction classes from τ: negative / neutral / positive (or more bins), one definition for
the classifier's labels and for evaluating every model as a classifier.

By default the classes are the strong-interaction cut-off of evaluation (config ``evaluate``):
τ < −t is ``negative``, |τ| ≤ t ``neutral``, τ > t ``positive``, with t =
``strong_threshold`` or, for a set size named in ``strong_threshold_by_arity``, its own cut-off
(e.g. 0.08 for digenic ε, 0.05 for trigenic τ). ``class_edges`` replaces the cut-offs with
explicit bin edges (the same for every arity): edges e₁ < … < e_{C−1} give C classes,
``bin0`` = (−∞, e₁), ``bin1`` = [e₁, e₂), …; a value equal to an edge goes to the upper bin
except at the neutral band's upper cut-off (|τ| ≤ t is neutral, as "strong" means |τ| > t).

τ and the edges are compared in single precision, the precision models train on, so a
published τ of exactly −0.05 gets the same class in training and in evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

THREE_CLASSES = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class InteractionClasses:
    """Bins of τ per set size.

    Attributes:
        edges: bin edges used for any arity not in ``edges_by_arity`` (C − 1 increasing values).
        edges_by_arity: arity → its own edges (same number of classes).
        names: one name per class.
    """

    edges: tuple[float, ...]
    edges_by_arity: dict[int, tuple[float, ...]] = field(default_factory=dict)
    names: tuple[str, ...] = THREE_CLASSES

    def __post_init__(self) -> None:
        for arity, edges in [(None, self.edges), *self.edges_by_arity.items()]:
            where = "class edges" + (f" of arity {arity}" if arity is not None else "")
            if len(edges) != len(self.names) - 1:
                raise ValueError(f"{where}: {len(edges)} edges for {len(self.names)} classes")
            if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"{where} must increase: {list(edges)}")

    @classmethod
    def from_config(cls, strong_threshold: float,
                    strong_threshold_by_arity: dict[int, float] | None = None,
                    class_edges: Sequence[float] | None = None) -> InteractionClasses:
        """The classes of config ``evaluate``: three around the strong cut-off(s), or C bins
        from explicit ``class_edges``."""
        if class_edges:
            edges = tuple(float(e) for e in class_edges)
            names = (THREE_CLASSES if len(edges) == 2 and edges[0] < 0 < edges[1]
                     else tuple(f"bin{i}" for i in range(len(edges) + 1)))
            return cls(edges, {}, names)
        if strong_threshold <= 0:
            raise ValueError(f"strong_threshold must be positive, not {strong_threshold}")
        by_arity = {int(a): (-float(t), float(t))
                    for a, t in (strong_threshold_by_arity or {}).items()}
        return cls((-float(strong_threshold), float(strong_threshold)), by_arity)

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def edges_for(self, arity: int) -> tuple[float, ...]:
        return self.edges_by_arity.get(int(arity), self.edges)

    def _edge_table(self, arity: Tensor, dtype: torch.dtype) -> Tensor:
        """(n, C − 1) edges of each set."""
        table = torch.tensor(self.edges, dtype=dtype).expand(len(arity), -1).clone()
        for a, edges in self.edges_by_arity.items():
            table[arity == a] = torch.tensor(edges, dtype=dtype)
        return table

    def labels(self, tau: Tensor, arity: Tensor) -> Tensor:
        """(n,) class index of each τ."""
        tau = torch.as_tensor(tau).detach().float().flatten().cpu()
        edges = self._edge_table(torch.as_tensor(arity).flatten().cpu(), torch.float32)
        above = tau.unsqueeze(-1) >= edges
        if self.names == THREE_CLASSES:
            # |τ| ≤ t is neutral: only τ strictly above the upper cut-off is positive.
            above[:, -1] = tau > edges[:, -1]
        return above.sum(-1)

    def scores(self, tau_pred: Tensor, arity: Tensor) -> Tensor:
        """(n, C) per-class ranking scores of a regression model's τ̂ (higher = more likely that
        class): how far τ̂ lies inside the class's bin, from its nearest edge (negative
        outside), so the bin holding τ̂ scores highest. For three classes around ±t: −t − τ̂,
        t − |τ̂| and τ̂ − t. Rank-based metrics (AUROC, AUPRC) use them one class at a time."""
        tau = torch.as_tensor(tau_pred).detach().double().flatten().cpu()
        edges = self._edge_table(torch.as_tensor(arity).flatten().cpu(), torch.float64)
        columns = [edges[:, 0] - tau]
        for i in range(1, edges.shape[1]):
            columns.append(torch.minimum(tau - edges[:, i - 1], edges[:, i] - tau))
        columns.append(tau - edges[:, -1])
        return torch.stack(columns, dim=-1)

    def to_json(self) -> dict[str, Any]:
        return {"edges": list(self.edges),
                "edges_by_arity": {str(a): list(e) for a, e in self.edges_by_arity.items()},
                "names": list(self.names)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InteractionClasses:
        return cls(tuple(data["edges"]),
                   {int(a): tuple(e) for a, e in data.get("edges_by_arity", {}).items()},
                   tuple(data["names"]))


def class_counts(labels: Tensor | np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)


def balanced_class_weights(labels: Tensor | np.ndarray, num_classes: int) -> list[float]:
    """scikit-learn's "balanced" weights, n / (C · n_c); a class absent from training gets 0
    (it contributes nothing to the loss either way)."""
    counts = class_counts(labels, num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.tolist()
