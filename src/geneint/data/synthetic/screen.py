"""The synthetic Kuzmin 2018 screen: design, noisy observations, truth table.

:func:`design_screen` draws the query and array strains and which query meets which array (a
:class:`ScreenDesign`); :func:`observe_screen` computes noise-free scores, noisy observations and
the 12 published columns of every row (a :class:`Screen`); :func:`truth_table` lists the
noise-free score of every unique gene set of the screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from geneint.data.files import HO_MARKER
from geneint.data.kuzmin import KUZMIN2018_COLUMNS
from geneint.data.synthetic.genes import GeneFactors, GeneTable
from geneint.data.synthetic.scales import TARGET_ORACLE_PEARSON, ScaleSpec
from geneint.data.synthetic.scores import epsilon_noise_free, tau_noise_free


@dataclass(frozen=True)
class ScreenDesign:
    """Query strains, array strains and which query meets which array.

    ``query_genes[q] = (g1, g2)`` with ``g2 = -1`` for a single-mutant control (``g1 + hoΔ``).
    Row ``r`` of the screen crosses query ``row_query[r]`` with array ``row_array[r]``.
    """

    query_genes: np.ndarray  # (n_queries, 2) int
    query_numbers: np.ndarray  # tm<N>
    array_genes: np.ndarray  # (n_arrays,) int
    array_ts: np.ndarray  # (n_arrays,) bool: temperature-sensitive (tsa) or deletion (dma)
    array_numbers: np.ndarray
    array_allele_numbers: np.ndarray  # ts allele number (xyz2-<n>); unused for dma
    row_query: np.ndarray
    row_array: np.ndarray


def design_screen(factors: GeneFactors, scale: ScaleSpec, rng: np.random.Generator,
                  min_query_fitness: float = 0.3) -> ScreenDesign:
    """Draw a Kuzmin-style screen (see the package docstring for the design)."""
    g = len(factors.fitness)
    pool = rng.choice(g, size=min(g, round(scale.query_gene_pool * scale.n_double_queries)),
                      replace=False)
    module = factors.module
    pairs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    attempts = 0
    while len(pairs) < scale.n_double_queries:
        attempts += 1
        if attempts > 1000 * scale.n_double_queries:
            raise RuntimeError("could not draw enough viable query pairs; enlarge the pool")
        a = int(rng.choice(pool))
        mates = pool[(module[pool] == module[a]) & (pool != a)] if module[a] >= 0 else pool[:0]
        b = int(rng.choice(mates)) if len(mates) and rng.random() < 0.5 else int(rng.choice(pool))
        key = (min(a, b), max(a, b))
        if a == b or key in seen:
            continue
        fit = factors.fitness[a] * factors.fitness[b] + epsilon_noise_free(
            factors, np.array([a]), np.array([b]))[0]
        if fit < min_query_fitness:
            continue
        seen.add(key)
        pairs.append(key)
    doubles = np.array(pairs, dtype=np.int64)
    query_genes_used = np.unique(doubles)
    n_single = min(scale.n_single_queries, len(query_genes_used))
    singles = np.sort(rng.choice(query_genes_used, size=n_single, replace=False))
    query_genes = np.concatenate([doubles, np.stack([singles, np.full(n_single, -1)], 1)])

    on_array = query_genes_used[rng.random(len(query_genes_used)) < scale.query_genes_on_array]
    others = np.setdiff1d(np.arange(g), query_genes_used)
    n_rest = max(scale.n_array_strains - len(on_array), 0)
    array_genes = np.sort(np.concatenate([on_array, rng.choice(others, size=n_rest,
                                                                replace=False)]))
    n_arrays = len(array_genes)
    array_ts = rng.random(n_arrays) < 0.12
    array_numbers = np.where(array_ts, rng.permutation(4000)[:n_arrays] + 1,
                             rng.permutation(6000)[:n_arrays] + 1)
    allele_numbers = rng.choice(np.array([1, 2, 3, 5, 13, 100, 5001]), size=n_arrays)
    query_numbers = rng.permutation(5000)[:len(query_genes)] + 1

    row_query, row_array = [], []
    for q, (g1, g2) in enumerate(query_genes.tolist()):
        allowed = np.flatnonzero((array_genes != g1) & (array_genes != g2))
        chosen = np.sort(rng.choice(allowed, size=min(scale.arrays_per_query, len(allowed)),
                                    replace=False))
        row_query.append(np.full(len(chosen), q))
        row_array.append(chosen)
    return ScreenDesign(
        query_genes=query_genes, query_numbers=query_numbers, array_genes=array_genes,
        array_ts=array_ts, array_numbers=array_numbers, array_allele_numbers=allele_numbers,
        row_query=np.concatenate(row_query), row_array=np.concatenate(row_array),
    )


def _allele(genes: GeneTable, index: np.ndarray) -> np.ndarray:
    """Lower-case standard name (or ORF when unnamed), the stem of allele names."""
    names = np.where(genes.standard_names[index] != "", genes.standard_names[index],
                     genes.names[index])
    return np.char.lower(names.astype(str))


@dataclass(frozen=True)
class Screen:
    """The screen's rows in Kuzmin 2018 layout plus the truth needed to check them."""

    rows: pd.DataFrame  # the 12 KUZMIN2018_COLUMNS
    gene_sets: np.ndarray  # (n_rows, 3) gene indices, sorted, -1 for the missing 3rd gene
    tau_noise_free: np.ndarray  # per row (ε for digenic rows)
    tau_observed: np.ndarray  # per row, unrounded
    noise_sd: float


def observe_screen(design: ScreenDesign, genes: GeneTable, factors: GeneFactors,
                   rng: np.random.Generator, noise_sd: float | None = None) -> Screen:
    """Noise-free scores, noisy observations and all 12 published columns of every row."""
    q1 = design.query_genes[design.row_query, 0]
    q2 = design.query_genes[design.row_query, 1]
    arr = design.array_genes[design.row_array]
    trigenic = q2 >= 0
    n = len(q1)
    f = factors.fitness
    q2_safe = np.where(trigenic, q2, q1)

    truth = np.empty(n)
    truth[trigenic] = tau_noise_free(factors, np.stack([q1, q2, arr], 1)[trigenic])
    truth[~trigenic] = epsilon_noise_free(factors, q1[~trigenic], arr[~trigenic])
    if noise_sd is None:
        # Pearson(τ + e, τ) = sd(τ) / sqrt(sd(τ)² + σ²)
        sd = float(np.std(truth[trigenic])) if trigenic.any() else float(np.std(truth))
        noise_sd = sd * math.sqrt(1 / TARGET_ORACLE_PEARSON ** 2 - 1)
    observed = truth + noise_sd * rng.standard_normal(n)

    adjusted = np.round(observed, 6)
    eps_ik = epsilon_noise_free(factors, q1, arr)
    eps_jk = epsilon_noise_free(factors, q2_safe, arr)
    raw = np.where(trigenic, np.round(adjusted + eps_ik + eps_jk, 6), adjusted)
    p_value = 2 * norm.sf(np.abs(observed) / noise_sd) if noise_sd > 0 else np.zeros(n)
    query_fit = np.where(trigenic, f[q1] * f[q2_safe] + epsilon_noise_free(factors, q1, q2_safe),
                         f[q1])
    query_fit = np.round(query_fit, 4)
    array_fit = np.round(f[arr], 4)
    combined = np.round(query_fit * array_fit + raw, 4)
    fit_sd = np.round(np.exp(math.log(0.04) + 0.5 * rng.standard_normal(n)), 4)
    fit_sd = np.maximum(fit_sd, 0.0005)

    # strain ids and allele names
    names = genes.names
    stem = _allele(genes, np.arange(len(names)))
    qg = design.query_genes
    single = qg[:, 1] < 0
    lo = np.where(single, qg[:, 0], np.minimum(qg[:, 0], qg[:, 1]))
    hi = np.where(single, qg[:, 0], np.maximum(qg[:, 0], qg[:, 1]))
    first = names[lo]
    second = np.where(single, HO_MARKER, names[hi])
    query_ids = np.array([f"{a}+{b}_tm{t}" for a, b, t in
                          zip(first, second, design.query_numbers, strict=True)])
    query_alleles = np.array([f"{stem[a]}Δ+" + ("hoΔ" if s else f"{stem[b]}Δ")
                              for a, b, s in zip(lo, hi, single, strict=True)])
    ag = design.array_genes
    array_ids = np.array([f"{names[g]}_{'tsa' if ts else 'dma'}{k}" for g, ts, k in
                          zip(ag, design.array_ts, design.array_numbers, strict=True)])
    array_alleles = np.array([f"{stem[g]}-{a}" if ts else f"{stem[g]}Δ" for g, ts, a in
                              zip(ag, design.array_ts, design.array_allele_numbers,
                                  strict=True)])

    rows = pd.DataFrame({
        KUZMIN2018_COLUMNS[0]: query_ids[design.row_query],
        KUZMIN2018_COLUMNS[1]: query_alleles[design.row_query],
        KUZMIN2018_COLUMNS[2]: array_ids[design.row_array],
        KUZMIN2018_COLUMNS[3]: array_alleles[design.row_array],
        KUZMIN2018_COLUMNS[4]: np.where(trigenic, "trigenic", "digenic"),
        KUZMIN2018_COLUMNS[5]: [f"{v:.6f}" for v in raw],
        KUZMIN2018_COLUMNS[6]: [f"{v:.6f}" for v in adjusted],
        KUZMIN2018_COLUMNS[7]: [f"{v:.2E}" for v in p_value],
        KUZMIN2018_COLUMNS[8]: [f"{v:.4f}" for v in query_fit],
        KUZMIN2018_COLUMNS[9]: [f"{v:.4f}" for v in array_fit],
        KUZMIN2018_COLUMNS[10]: [f"{v:.4f}" for v in combined],
        KUZMIN2018_COLUMNS[11]: [f"{v:.4f}" for v in fit_sd],
    })
    # Published order: by query strain, then array strain.
    order = np.lexsort((rows[KUZMIN2018_COLUMNS[2]].to_numpy(),
                        rows[KUZMIN2018_COLUMNS[0]].to_numpy()))
    rows = rows.iloc[order].reset_index(drop=True)
    sets = np.sort(np.stack([q1, np.where(trigenic, q2, -1), arr], 1), axis=1)
    sets = np.where(sets[:, :1] < 0, np.roll(sets, -1, axis=1), sets)  # -1 last
    return Screen(rows=rows, gene_sets=sets[order], tau_noise_free=truth[order],
                  tau_observed=observed[order], noise_sd=float(noise_sd))


def truth_table(screen: Screen, genes: GeneTable) -> pd.DataFrame:
    """One row per unique gene set of the screen: sorted genes (``""`` for pairs) and τ."""
    _, first = np.unique(screen.gene_sets, axis=0, return_index=True)
    first = np.sort(first)  # file order of first occurrence
    sets = screen.gene_sets[first]
    names = np.append(genes.names, "")  # index -1 -> ""
    return pd.DataFrame({
        "gene_a": names[sets[:, 0]], "gene_b": names[sets[:, 1]], "gene_c": names[sets[:, 2]],
        "tau_noise_free": screen.tau_noise_free[first],
    })
