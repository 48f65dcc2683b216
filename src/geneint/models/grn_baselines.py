"""Floors for gene-network inference, on the same contract as CaTran (expression of the
training cells, their knock-downs, a network size → ranked directed edges).

- random: CausalBench's ``RandomWithSize``, distinct ordered pairs drawn with Python's
  ``random`` seeded with the seed (the same edges as CausalBench's for the same seed);
- correlation: the pairs with the largest absolute Pearson or Spearman correlation over the
  training cells, directed like every model's pairs
  (:func:`geneint.models.network_edges.orient_pairs`).
"""

from __future__ import annotations

import random

import numpy as np
from scipy import stats

from geneint.models.network_edges import RankedEdges


def random_network(n_genes: int, n_edges: int, seed: int) -> RankedEdges:
    possible = n_genes * (n_genes - 1)
    if n_edges > possible:
        raise ValueError(f"{n_edges} edges asked of {n_genes} genes, which have {possible}")
    rng = random.Random(seed)
    edges: dict[tuple[int, int], None] = {}
    while len(edges) < n_edges:
        source, target = rng.sample(range(n_genes), 2)
        edges[(source, target)] = None
    pairs = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    return RankedEdges(pairs[:, 0], pairs[:, 1], np.zeros(len(pairs)))


def correlation_scores(expression: np.ndarray, method: str = "pearson") -> np.ndarray:
    """|correlation| between genes over cells; 0 for a gene without variance."""
    if method == "spearman":
        expression = stats.rankdata(expression, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.abs(np.corrcoef(expression, rowvar=False))
    scores = np.nan_to_num(np.atleast_2d(scores), nan=0.0)
    np.fill_diagonal(scores, 0.0)
    return scores
