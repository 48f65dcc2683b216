"""The planted interaction scores: noise-free digenic ε and trigenic τ of gene sets.

Both are functions of the hidden :class:`~geneint.data.synthetic.genes.GeneFactors`:
:func:`epsilon_noise_free` for pairs, :func:`tau_latent` (the latent strength),
:func:`expected_triple_fitness` (the bound that keeps fitness non-negative) and
:func:`tau_noise_free` for triples. The model constants are at the top.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from geneint.data.synthetic.genes import GeneFactors

# τ / ε model constants (see the package docstring).
_EPS_W_PAIR, _EPS_X0, _EPS_SLOPE, _EPS_MAX = 2.0, 2.5, 4.0, 0.5
_EPS_POS, _EPS_POS_X0 = 0.08, 1.6
_TAU_W_MEAN, _TAU_W_MIN, _TAU_W_TRI = 1.2, 1.4, 0.15
_TAU_X0, _TAU_SLOPE, _TAU_MAX = 3.1, 2.0, 1.05
_TAU_POS, _TAU_POS_X0 = 0.25, 2.6
#: Share of the expected fitness a lethal interaction removes.
_LETHAL = 0.92


def _cos(unit: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("nk,nk->n", unit[a], unit[b])


def epsilon_noise_free(factors: GeneFactors, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Noise-free digenic score ε of gene pairs ``(a, b)`` (symmetric in a, b).

    ``y = 2.0 s_ab + b_a + b_b``;
    ``ε = −min(0.5 σ(4 (y − 2.5)), 0.92 f_a f_b) + 0.08 σ(4 (−y − 1.6))``: a synthetic-lethal
    pair keeps 8 % of its expected fitness, so noise-free double-mutant fitness stays positive.
    """
    a, b = np.asarray(a), np.asarray(b)
    y = _EPS_W_PAIR * _cos(factors.unit, a, b) + factors.bias[a] + factors.bias[b]
    lethal = _LETHAL * factors.fitness[a] * factors.fitness[b]
    negative = np.minimum(_EPS_MAX * expit(_EPS_SLOPE * (y - _EPS_X0)), lethal)
    positive = _EPS_POS * expit(_EPS_SLOPE * (-y - _EPS_POS_X0))
    return positive - negative


def tau_latent(factors: GeneFactors, triples: np.ndarray) -> np.ndarray:
    """Latent interaction strength of gene triples (an (n, 3) index array).

    ``x_ijk = 1.2 · mean(s_ij, s_ik, s_jk) + 1.4 · min(s_ij, s_ik, s_jk)
    + 0.15 · K Σ_d ẑ_id ẑ_jd ẑ_kd + b_i + b_j + b_k``: strongest when all three genes are
    mutually similar (the minimum), modulated by a trilinear term of the three factor vectors;
    only the biases are additive.
    """
    unit = factors.unit
    i, j, k = (np.asarray(triples)[:, c] for c in range(3))
    cosines = np.stack([_cos(unit, i, j), _cos(unit, i, k), _cos(unit, j, k)])
    trilinear = unit.shape[1] * np.einsum("nd,nd,nd->n", unit[i], unit[j], unit[k])
    return (_TAU_W_MEAN * cosines.mean(axis=0) + _TAU_W_MIN * cosines.min(axis=0)
            + _TAU_W_TRI * trilinear + factors.bias[i] + factors.bias[j] + factors.bias[k])


def expected_triple_fitness(factors: GeneFactors, triples: np.ndarray) -> np.ndarray:
    """Expected triple-mutant fitness without τ, in the worst of the three ways the set can be
    screened (query pair ``ij`` × array ``k``: ``f_i f_j f_k + ε_ij f_k + ε_ik + ε_jk``, from
    the published identities). A function of the gene set; may be negative."""
    triples = np.asarray(triples)
    i, j, k = (triples[:, c] for c in range(3))
    f = factors.fitness
    e_ij, e_ik, e_jk = (epsilon_noise_free(factors, x, y) for x, y in ((i, j), (i, k), (j, k)))
    fff = f[i] * f[j] * f[k]
    options = np.stack([fff + e_ij * f[k] + e_ik + e_jk,
                        fff + e_ik * f[j] + e_ij + e_jk,
                        fff + e_jk * f[i] + e_ij + e_ik])
    return options.min(axis=0)


def tau_noise_free(factors: GeneFactors, triples: np.ndarray) -> np.ndarray:
    """Noise-free trigenic score τ of gene triples (an (n, 3) index array); symmetric in the
    three genes, i.e. a function of the gene set.

    ``τ = −1.05 σ(2 (x − 3.1)) + 0.25 σ(4 (−x − 2.6))`` with ``x`` from :func:`tau_latent`,
    bounded below so that the triple mutant keeps a non-negative fitness: with ``E`` from
    :func:`expected_triple_fitness`, ``τ ≥ −0.92 E`` (a lethal interaction leaves 8 % of the
    expected fitness) and, when the digenic interactions alone already predict ``E < 0``,
    ``τ ≥ −E`` (a positive, masking τ).
    """
    x = tau_latent(factors, triples)
    tau = (_TAU_POS * expit(4.0 * (-x - _TAU_POS_X0))
           - _TAU_MAX * expit(_TAU_SLOPE * (x - _TAU_X0)))
    expected = expected_triple_fitness(factors, triples)
    lower = np.where(expected > 0, -_LETHAL * expected, -expected)
    return np.maximum(tau, lower)
