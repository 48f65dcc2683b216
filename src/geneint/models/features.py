r"""Fixed-length, order-invariant features of gene sets, for the non-neural models.

Every function takes the sets as padded gene indices ``genes`` :math:`(n, S)` with ``mask``
:math:`(n, S)` (True = real gene), so pairs and triples can share one matrix; a set's features
never depend on the order of its genes.

- :func:`membership_features`: the sum of the genes' one-hot vectors (sparse, :math:`(n, G)`):
  a linear model on it is additive in per-gene effects.
- :func:`pair_network_features`: per network, for each gene pair of the set, the edge weight,
  both degrees (smaller first) and the number of common neighbours; a triple's three pairs are
  ordered by their summed edge weight (then common neighbours, then every feature), a pair's
  missing second and third pair slots are NaN.
- :func:`embedding_set_features`: per network, the sum and the element-wise product of the
  set's gene embeddings (DANGO's baseline summed its genes' vectors; the product adds an
  interaction term that a sum cannot express).

With both arities present, the set size is appended as a last column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

#: Per network and gene pair: edge weight, smaller degree, larger degree, common neighbours.
PAIR_FEATURE_NAMES = ("weight", "degree_min", "degree_max", "common_neighbours")


def _check_sets(genes: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    genes, mask = np.asarray(genes), np.asarray(mask, dtype=bool)
    if genes.ndim != 2 or genes.shape != mask.shape:
        raise ValueError(f"genes {genes.shape} and mask {mask.shape} must both be (n, S)")
    if (mask.sum(axis=1) < 2).any():
        raise ValueError("every set needs at least two genes")
    return genes, mask


def _with_arity(features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    arity = mask.sum(axis=1)
    if len(np.unique(arity)) > 1:
        return np.column_stack([features, arity.astype(features.dtype)])
    return features


def membership_features(genes: np.ndarray, mask: np.ndarray, num_genes: int) -> sp.csr_matrix:
    """Sum of one-hot gene vectors, :math:`(n, G)` sparse (plus an arity column if mixed)."""
    genes, mask = _check_sets(genes, mask)
    rows = np.repeat(np.arange(genes.shape[0]), mask.sum(axis=1))
    matrix = sp.csr_matrix((np.ones(rows.size), (rows, genes[mask])),
                           shape=(genes.shape[0], num_genes))
    arity = mask.sum(axis=1)
    if len(np.unique(arity)) > 1:
        matrix = sp.hstack([matrix, sp.csr_matrix(arity.reshape(-1, 1).astype(float))],
                           format="csr")
    return matrix


class NetworkPairs:
    """One network's adjacency for pair lookups: weights, degrees, common neighbours.

    Args:
        edge_index: :math:`(2, E)` int, both directions of every edge.
        weight: :math:`(E,)` edge weights.
        num_nodes: :math:`G`.
    """

    def __init__(self, edge_index: np.ndarray, weight: np.ndarray, num_nodes: int) -> None:
        edge_index = np.asarray(edge_index)
        self.weights = sp.csr_matrix((np.asarray(weight, dtype=np.float64),
                                      (edge_index[0], edge_index[1])),
                                     shape=(num_nodes, num_nodes))
        self.binary = (self.weights != 0).astype(np.float64).tocsr()
        self.degree = np.asarray(self.binary.sum(axis=1)).ravel()

    def features(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """:math:`(n, 4)`: :data:`PAIR_FEATURE_NAMES` of the pairs ``(a[i], b[i])``."""
        weight = np.asarray(self.weights[a, b]).ravel()
        common = np.asarray(self.binary[a].multiply(self.binary[b]).sum(axis=1)).ravel()
        deg_a, deg_b = self.degree[a], self.degree[b]
        return np.column_stack([weight, np.minimum(deg_a, deg_b), np.maximum(deg_a, deg_b),
                                common])


def pair_network_features(genes: np.ndarray, mask: np.ndarray,
                          networks: Sequence[NetworkPairs]) -> np.ndarray:
    """Network features of every gene pair of each set, :math:`(n, P \\cdot 4K)` with
    :math:`P` = 3 pair slots for triples (1 when only pairs are present)."""
    genes, mask = _check_sets(genes, mask)
    if not networks:
        raise ValueError("pair features need at least one network")
    size = genes.shape[1]
    slots = [(i, j) for i in range(size) for j in range(i + 1, size)]
    per_slot = []
    for i, j in slots:
        valid = mask[:, i] & mask[:, j]
        a = np.where(valid, genes[:, i], 0)
        b = np.where(valid, genes[:, j], 0)
        block = np.hstack([net.features(a, b) for net in networks])
        block[~valid] = np.nan
        per_slot.append(block)
    stacked = np.stack(per_slot, axis=1)  # (n, P, 4K)
    if len(slots) > 1:
        # Order the pair slots by summed edge weight, then common neighbours, then every
        # feature (a total order: invariance to the order of the set's genes); missing slots
        # (NaN) go last.
        weight = np.nansum(stacked[:, :, 0::4], axis=2)
        common = np.nansum(stacked[:, :, 3::4], axis=2)
        missing = np.isnan(stacked[:, :, 0])
        ties = [-stacked[:, :, f] for f in reversed(range(stacked.shape[2]))]
        order = np.lexsort((*ties, -common, -weight, missing), axis=-1)
        stacked = np.take_along_axis(stacked, order[:, :, None], axis=1)
    return _with_arity(stacked.reshape(stacked.shape[0], -1), mask)


def embedding_set_features(genes: np.ndarray, mask: np.ndarray,
                           embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """Per network :math:`k`: the sum and the element-wise product of the set's embeddings
    :math:`E^{(k)}` (:math:`(G, D)` each), concatenated: :math:`(n, 2 K D)`."""
    genes, mask = _check_sets(genes, mask)
    parts = []
    for table in embeddings:
        vectors = np.asarray(table, dtype=np.float64)[genes]  # (n, S, D)
        parts.append(np.where(mask[..., None], vectors, 0.0).sum(axis=1))
        parts.append(np.where(mask[..., None], vectors, 1.0).prod(axis=1))
    return _with_arity(np.hstack(parts), mask)
