"""The edge selection every network model shares: a symmetric gene–gene score → a ranked,
directed edge list of a fixed size.

CaTran's attention and the correlations are symmetric, so an edge's direction has to come from
somewhere else. The original CaTran emits (i, j) with i before j in gene order;
:func:`orient_pairs` can instead point each pair from the gene whose knock-down shifts the
other more in the training cells. NumPy only: the baselines never import torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ORIENTATIONS = ("interventional", "gene_order", "both")


@dataclass(frozen=True)
class RankedEdges:
    """A predicted network: gene indices of each edge's source and target, best first."""

    sources: np.ndarray
    targets: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.sources)


def knockdown_effects(expression: np.ndarray, knocked_down: np.ndarray) -> np.ndarray:
    """``effects[i, j]``: how far knocking down gene i moves gene j in these cells,
    |mean(j | i knocked down) − mean(j | control)| / sd(j | control); NaN where i was not
    knocked down (``knocked_down[c]`` = gene index, −1 for controls, −2 for other cells)."""
    n = expression.shape[1]
    effects = np.full((n, n), np.nan)
    controls = expression[knocked_down == -1]
    if len(controls) < 2:
        return effects
    mean, sd = controls.mean(0), controls.std(0)
    sd = np.where(sd > 0, sd, max(float(sd[sd > 0].min(initial=1.0)), 1e-6))
    for i in np.unique(knocked_down[knocked_down >= 0]):
        effects[i] = np.abs(expression[knocked_down == i].mean(0) - mean) / sd
    return effects


def top_pairs(scores: np.ndarray, n_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_pairs`` best unordered pairs (i < j) of a symmetric score matrix, best first
    (ties by gene order)."""
    rows, cols = np.triu_indices(scores.shape[0], k=1)
    values = scores[rows, cols]
    order = np.lexsort((cols, rows, -values))[:n_pairs]
    return rows[order], cols[order]


def orient_pairs(rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, orientation: str,
                 effects: np.ndarray | None = None, asymmetry: np.ndarray | None = None
                 ) -> RankedEdges:
    """Directed edges from ranked unordered pairs.

    - ``gene_order``: i → j for i before j (the original CaTran);
    - ``both``: i → j and j → i, pair by pair;
    - ``interventional``: from the gene whose knock-down shifts the other more (``effects``);
      a direction without a knock-down counts as the median effect of all knock-downs (a
      typical, mostly unrelated pair). With no knock-down for either gene, the larger of
      ``asymmetry[target, source]`` decides, else gene order.
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"unknown orientation {orientation!r}; choose from {ORIENTATIONS}")
    pair_scores = scores[rows, cols]
    if orientation == "gene_order":
        return RankedEdges(rows, cols, pair_scores)
    if orientation == "both":
        return RankedEdges(np.column_stack([rows, cols]).ravel(),
                           np.column_stack([cols, rows]).ravel(), np.repeat(pair_scores, 2))
    forward = np.zeros(len(rows), dtype=bool)
    decided = np.zeros(len(rows), dtype=bool)
    if effects is not None and np.isfinite(effects).any():
        typical = np.nanmedian(effects[np.isfinite(effects)])
        e_ij, e_ji = effects[rows, cols], effects[cols, rows]
        decided = np.isfinite(e_ij) | np.isfinite(e_ji)
        forward = np.nan_to_num(e_ij, nan=typical) >= np.nan_to_num(e_ji, nan=typical)
    if asymmetry is not None:
        forward = np.where(decided, forward, asymmetry[cols, rows] >= asymmetry[rows, cols])
    else:
        forward = np.where(decided, forward, True)
    return RankedEdges(np.where(forward, rows, cols), np.where(forward, cols, rows), pair_scores)


def select_edges(scores: np.ndarray, n_edges: int, orientation: str,
                 effects: np.ndarray | None = None, asymmetry: np.ndarray | None = None
                 ) -> RankedEdges:
    """``n_edges`` directed edges from a symmetric pair score (diagonal ignored)."""
    n_pairs = -(-n_edges // 2) if orientation == "both" else n_edges
    rows, cols = top_pairs(scores, n_pairs)
    edges = orient_pairs(rows, cols, scores, orientation, effects, asymmetry)
    return RankedEdges(edges.sources[:n_edges], edges.targets[:n_edges], edges.scores[:n_edges])


def catran_scores(adjacency: np.ndarray) -> np.ndarray:
    """The original's pair score: softmax attention, diagonal zeroed, max(A, Aᵀ)."""
    scores = adjacency.copy()
    np.fill_diagonal(scores, 0.0)
    return np.maximum(scores, scores.T)
