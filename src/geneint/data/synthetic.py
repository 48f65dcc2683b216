"""A synthetic yeast data set with a planted, learnable trigenic signal, in the published formats.

:func:`synthesize` writes everything the pipeline reads, byte-for-byte reproducible from one seed:

======================================================  ========================================
file                                                    format and writer
======================================================  ========================================
``string/4932.protein.links.detailed.v9.1.txt.gz``      STRING links.detailed
                                                        (:func:`.string.write_string_links`)
``string/4932.protein.links.detailed.v11.0.txt.gz``     the "newer release" of the same genes
``kuzmin2018/aao1729_data_s1.tsv``                      Kuzmin 2018 Data S1, 12 columns
                                                        (:func:`.kuzmin.write_kuzmin2018_tsv`)
``sgd/SGD_features.tab``                                16-column SGD features (the universe)
                                                        (:func:`.genes.write_sgd_features`)
``truth/tau_noise_free.tsv``                            ``gene_a gene_b gene_c tau_noise_free``,
                                                        one row per gene set of the screen
``truth/gene_factors.tsv``                              the hidden per-gene variables
``manifest.json``                                       paths (relative) and key numbers
======================================================  ========================================

Generative model
----------------
*Genes.* ``G`` systematic names that look like real ORFs (``Y`` + chromosome letter ``A``–``P`` +
arm ``L``/``R`` + 3 digits + strand ``W``/``C``, a few with a ``-A`` suffix), laid out on 16
chromosomes in proportion to their real lengths. ``YDL227C`` (HO, the ``hoΔ`` marker of SGA query
strains) is never a generated gene, but it is listed in ``SGD_features.tab`` as a normal ORF, as
in reality. About 78 % of genes are ``Verified`` and carry a unique standard name (``ABC1``).

*Hidden factors.* Gene ``i`` has a factor vector ``z_i ∈ R^K`` (``K = 8``), drawn around one of
``M`` module centres (12 for the demo, 20 at seed scale): ``z_i = μ_m + 0.45 ε``, while 15 % of
genes belong to no module and draw ``z_i ~ N(0, I)``. Each gene also has a small additive bias
``b_i ~ N(0, 0.3²)`` and a single-mutant fitness ``f_i ~ U(0.6, 1.05)``. With
``ẑ_i = z_i / |z_i|`` the functional similarity of two genes is the cosine ``s_ij = ẑ_i · ẑ_j``
(about 0.8 within a module, about 0 ± 0.35 between modules).

*STRING channels.* Each of the six channels (:data:`CHANNELS`) draws exactly ``n_c`` undirected
edges, ``n_c`` = the channel's STRING v9.1 edge count for 6,607 genes scaled by ``G / 6607`` (the
mean degree is kept). Edges are a weighted sample without replacement (Gumbel top-k) with pair
weight ``exp(κ_c s_ij)``: coexpression and experimental are dense and informative (large ``κ``),
neighborhood and database medium, cooccurence and fusion sparse and noisy (small ``κ``). A
channel score is ``1000 · sigmoid(loc_c + gain_c · s_ij + sd_c · N(0, 1))`` rounded to 1..999,
so more similar pairs score higher. Text mining covers most linked pairs plus some text-only
pairs. ``combined_score = 1000 · (1 − Π_c (1 − score_c / 1000))`` over the six channels and
text mining; as in STRING, pairs with a combined score below 150 are not listed (they are counted
in the manifest; the few channel edges they carry are lost).

*The newer release (v11.0).* Same genes; every v9.1 row is kept (scores shift by ``N(0, 12²)``,
combined score floored at 150), and each channel gains new edges among pairs it did not link in
v9.1, again weighted by ``exp(κ_c s_ij)``. The gained fraction of v9.1 zero entries is above 1 %
for coexpression, experimental and neighborhood and below 1 % for fusion, cooccurence and
database — the DANGO λ rule then gives λ = 0.1 to the former and λ = 1 to the latter.

*Digenic scores.* ``y_ij = 2.0 s_ij + b_i + b_j`` and
``ε_ij = −min(0.5 σ(4 (y_ij − 2.5)), 0.92 f_i f_j) + 0.08 σ(4 (−y_ij − 1.6))`` (σ = logistic):
most pairs near 0, similar pairs negative (about 1–3 % below −0.08), strongly dissimilar pairs
mildly positive.

*Trigenic scores.* ``x_ijk = 1.2 · mean(s_ij, s_ik, s_jk) + 1.4 · min(s_ij, s_ik, s_jk) +
0.15 · K Σ_d ẑ_id ẑ_jd ẑ_kd + b_i + b_j + b_k`` is large only when all three genes are mutually
similar (the minimum), modulated by a trilinear term; only the biases are additive. Then
``τ_ijk = −1.05 σ(2 (x − 3.1)) + 0.25 σ(4 (−x − 2.6))``, bounded below so that the triple
mutant's noise-free fitness stays non-negative: with ``E`` the expected triple fitness from the
digenic scores (worst of the three query/array orientations), ``τ ≥ −0.92 E`` (a lethal
interaction leaves 8 % of ``E``), and ``τ ≥ −E > 0`` when the digenic scores alone already
predict ``E < 0`` (masking). τ is a function of the gene *set*: mostly near 0, about 3–8 % below
−0.05, a tail down to about −0.7 and a few positive values, as in Kuzmin 2018 (τ ∈ [−1.08, 0.3]).

*The screen.* Like Kuzmin 2018: double-mutant query strains ``ORF1+ORF2_tm<N>`` (half of them
pairs from one module, as real queries are often functionally related; only viable queries with
``f_i f_j + ε_ij ≥ 0.3``) and single-mutant control queries ``ORF+YDL227C_tm<N>``
(``abc1Δ+hoΔ``), each crossed to a random subset of an array of deletion (``<ORF>_dma<N>``,
``abc1Δ``) and temperature-sensitive (``<ORF>_tsa<N>``, ``abc1-1``) strains. Some query genes
are also on the array, so a few gene sets are measured twice (by different queries); their
noise-free score is one value, their observations differ.

*Observations.* ``τ_obs = τ + N(0, σ²)`` (``ε_obs`` likewise for digenic rows); by default ``σ``
is set so that Pearson(τ_obs, τ) over trigenic rows is about 0.825. ``P-value`` is the two-sided
normal test of ``τ_obs`` against ``σ``. The other columns follow the published identities: raw
ε = ``τ_obs + ε_ik + ε_jk`` (trigenic) or ``ε_obs`` (digenic), query fitness = ``f_i f_j +
ε_ij`` (double) or ``f_i`` (control), array fitness = ``f_k``, combined fitness = query fitness ×
array fitness + raw ε, and a small positive standard deviation.

All randomness flows from ``numpy.random.default_rng(seed)``; there is no global RNG state.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from geneint.data.genes import write_sgd_features
from geneint.data.io import HO_MARKER, ORF_PATTERN, PathLike, write_text_atomic
from geneint.data.kuzmin import KUZMIN2018_COLUMNS, write_kuzmin2018_tsv
from geneint.data.string import write_string_links

log = logging.getLogger(__name__)

#: Number of genes the seed (real-data) edge counts refer to.
SEED_GENES = 6607
#: STRING floor: a pair is listed only when its combined score reaches this.
MIN_COMBINED_SCORE = 150
#: Target oracle Pearson(τ_obs, τ) over trigenic rows when ``noise_sd`` is not given.
TARGET_ORACLE_PEARSON = 0.825
#: STRING releases written, oldest first.
RELEASES = ("9.1", "11.0")

STRING_FILE = "string/4932.protein.links.detailed.v{version}.txt.gz"
KUZMIN_FILE = "kuzmin2018/aao1729_data_s1.tsv"
SGD_FILE = "sgd/SGD_features.tab"
TRUTH_FILE = "truth/tau_noise_free.tsv"
FACTORS_FILE = "truth/gene_factors.tsv"
MANIFEST_FILE = "manifest.json"
TRUTH_HEADER = ["gene_a", "gene_b", "gene_c", "tau_noise_free"]


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    """How one STRING channel is generated.

    Attributes:
        name: STRING column name.
        seed_edges: undirected edges among the 6,607 seed genes (scaled by ``G / 6607``).
        slope: κ, edge weight ``exp(κ · cosine)``; larger = more informative.
        gain_fraction: fraction of v9.1 zero entries that become edges in v11.0.
        score_loc, score_gain, score_sd: score = 1000·sigmoid(loc + gain·cosine + sd·N(0,1)).
    """

    name: str
    seed_edges: int
    slope: float
    gain_fraction: float
    score_loc: float
    score_gain: float
    score_sd: float


#: The six DANGO channels, in STRING column order. Seed edge counts: STRING v9.1 restricted to
#: the 6,607 torchcell genes; gain fractions: the paper-era v9.1 → v11 numbers.
CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("neighborhood", 52_208, 3.0, 0.046, -0.2, 1.0, 0.8),
    ChannelSpec("fusion", 7_965, 1.0, 0.0020, 0.2, 0.5, 0.8),
    ChannelSpec("cooccurence", 9_266, 1.2, 0.0035, 0.0, 0.6, 0.8),
    ChannelSpec("coexpression", 320_295, 8.0, 0.025, -0.6, 1.5, 0.7),
    ChannelSpec("experimental", 226_057, 8.0, 0.016, -0.3, 2.0, 0.9),
    ChannelSpec("database", 40_093, 3.0, 0.0033, 1.2, 1.0, 0.8),
)
CHANNEL_NAMES = tuple(c.name for c in CHANNELS)


@dataclass(frozen=True)
class ScaleSpec:
    """Sizes of a synthetic data set.

    Attributes:
        n_genes: genes with factors (the STRING genes); SGD lists these plus ``YDL227C``.
        n_double_queries: double-mutant query strains (trigenic rows).
        n_single_queries: single-mutant control queries ``q+hoΔ`` (digenic rows).
        n_array_strains: array strains (one gene each) that queries are crossed to.
        arrays_per_query: arrays each query is crossed to (a random subset of the array).
        query_gene_pool: candidate query genes per double-mutant query; < 2 makes queries share
            genes (needed for repeated triples).
        query_genes_on_array: probability that a query gene is also an array strain.
        n_factors: K, dimension of the hidden factors.
        n_modules: module centres; ``None`` = :func:`default_modules`.
    """

    n_genes: int
    n_double_queries: int
    n_single_queries: int
    n_array_strains: int
    arrays_per_query: int
    query_gene_pool: float = 1.8
    query_genes_on_array: float = 1.0
    n_factors: int = 8
    n_modules: int | None = None


#: ``demo``: the offline demo (whole pipeline in minutes on 2 CPU cores).
#: ``seed``: the size of the real data (6,607 genes, ~91k trigenic rows), for benchmarks.
SCALES: dict[str, ScaleSpec] = {
    "demo": ScaleSpec(n_genes=600, n_double_queries=100, n_single_queries=20,
                      n_array_strains=220, arrays_per_query=200, query_genes_on_array=0.3,
                      n_modules=12),
    "seed": ScaleSpec(n_genes=6607, n_double_queries=182, n_single_queries=300,
                      n_array_strains=1400, arrays_per_query=500, query_gene_pool=1.5,
                      query_genes_on_array=1.0, n_modules=20),
}

# Real chromosome lengths (kb) and centromere positions (fraction of length), chr I..XVI.
_CHROMOSOME_KB = np.array([230, 813, 317, 1532, 577, 270, 1091, 563, 440, 746, 667, 1078, 924,
                           784, 1091, 948], dtype=np.float64)
_CENTROMERE = np.array([0.66, 0.29, 0.36, 0.29, 0.26, 0.55, 0.46, 0.19, 0.81, 0.58, 0.66, 0.14,
                        0.29, 0.80, 0.30, 0.59])
_CHROMOSOME_LETTERS = "ABCDEFGHIJKLMNOP"

# τ / ε model constants (see the module docstring).
_EPS_W_PAIR, _EPS_X0, _EPS_SLOPE, _EPS_MAX = 2.0, 2.5, 4.0, 0.5
_EPS_POS, _EPS_POS_X0 = 0.08, 1.6
_TAU_W_MEAN, _TAU_W_MIN, _TAU_W_TRI = 1.2, 1.4, 0.15
_TAU_X0, _TAU_SLOPE, _TAU_MAX = 3.1, 2.0, 1.05
_TAU_POS, _TAU_POS_X0 = 0.25, 2.6
#: Share of the expected fitness a lethal interaction removes.
_LETHAL = 0.92


# --------------------------------------------------------------------------------------------
# Genes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneTable:
    """The generated genes, sorted by systematic name (row ``i`` = gene index ``i``)."""

    names: np.ndarray  # str
    standard_names: np.ndarray  # str, "" for unnamed genes
    qualifier: np.ndarray  # str
    chromosome: np.ndarray  # int 1..16
    start: np.ndarray  # int
    stop: np.ndarray  # int
    strand: np.ndarray  # "W" / "C"

    def __len__(self) -> int:
        return len(self.names)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to ``weights`` that sum exactly to ``total``."""
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


def make_genes(n_genes: int, rng: np.random.Generator, suffix_fraction: float = 0.006
               ) -> GeneTable:
    """Draw ``n_genes`` unique, real-looking systematic names with coordinates and annotation.

    Names match :data:`geneint.data.io.ORF_PATTERN`; ``YDL227C`` (and any ``YDL227`` name) is
    never generated. Genes are spread over the 32 chromosome arms in proportion to arm length
    and numbered outwards from the centromere, as in SGD; a fraction ``suffix_fraction`` get an
    ``-A`` name next to an existing gene (``YBR123W-A``).
    """
    if n_genes < 10:
        raise ValueError(f"n_genes must be at least 10, got {n_genes}")
    n_suffix = max(1, round(suffix_fraction * n_genes))
    n_base = n_genes - n_suffix
    arm_kb = np.stack([_CHROMOSOME_KB * _CENTROMERE, _CHROMOSOME_KB * (1 - _CENTROMERE)], 1)
    per_arm = _largest_remainder(arm_kb.ravel(), n_base).reshape(16, 2)
    if per_arm.max() > 990:
        raise ValueError(f"{n_genes} genes do not fit the 3-digit ORF numbering")
    names, chrom, pos, strand = [], [], [], []
    for c in range(16):
        cen = _CHROMOSOME_KB[c] * _CENTROMERE[c] * 1000
        for a, arm in enumerate("LR"):
            n = int(per_arm[c, a])
            if n == 0:
                continue
            reserved = {227} if (c == 3 and arm == "L") else set()  # YDL227C = HO
            top = min(999, math.ceil(n * 1.08) + 1 + len(reserved))
            pool = np.array([k for k in range(1, top + 1) if k not in reserved])
            numbers = np.sort(rng.choice(pool, size=n, replace=False))
            strands = rng.choice(np.array(["W", "C"]), size=n)
            arm_bp = arm_kb[c, a] * 1000
            offsets = (numbers / (top + 1)) * arm_bp * 0.97
            where = cen - offsets if arm == "L" else cen + offsets
            for k, s, p in zip(numbers.tolist(), strands.tolist(), where.tolist(), strict=True):
                names.append(f"Y{_CHROMOSOME_LETTERS[c]}{arm}{k:03d}{s}")
                chrom.append(c + 1)
                pos.append(p)
                strand.append(s)
    base = np.arange(len(names))
    for i in np.sort(rng.choice(base, size=n_suffix, replace=False)).tolist():
        s = str(rng.choice(np.array(["W", "C"])))
        names.append(f"{names[i][:-1]}{s}-A")
        chrom.append(chrom[i])
        pos.append(pos[i] + 600.0)
        strand.append(s)
    names_arr = np.array(names)
    if len(set(names)) != n_genes or HO_MARKER in set(names):
        raise AssertionError("gene name generation produced duplicates or YDL227C")
    if not all(ORF_PATTERN.match(n) for n in names):
        raise AssertionError("generated a name outside ORF_PATTERN")

    length = rng.integers(300, 4000, size=n_genes)
    left = np.maximum(np.round(np.array(pos)).astype(np.int64), 1)
    strand_arr = np.array(strand)
    start = np.where(strand_arr == "W", left, left + length - 1)
    stop = np.where(strand_arr == "W", left + length - 1, left)

    qualifier = rng.choice(np.array(["Verified", "Uncharacterized", "Dubious"]), size=n_genes,
                           p=[0.78, 0.11, 0.11])
    standard = np.full(n_genes, "", dtype=object)
    named = np.flatnonzero(qualifier == "Verified")
    standard[named] = make_standard_names(len(named), rng)

    order = np.argsort(names_arr, kind="stable")
    return GeneTable(
        names=names_arr[order], standard_names=standard[order].astype(str),
        qualifier=qualifier[order], chromosome=np.array(chrom)[order], start=start[order],
        stop=stop[order], strand=strand_arr[order],
    )


def make_standard_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unique standard names: 3 letters + a number (``NUP1``, ``NUP2``, ``PML7``…)."""
    consonants = np.array(list("BCDFGHKLMNPRSTVWYZ"))
    vowels = np.array(list("AEIOU"))
    n_prefix = max(1, n // 3)
    prefixes: list[str] = []
    seen: set[str] = set()
    while len(prefixes) < n_prefix:
        a, c = rng.choice(consonants, size=2)
        b = rng.choice(vowels) if rng.random() < 0.7 else rng.choice(consonants)
        p = f"{a}{b}{c}"
        if p not in seen:
            seen.add(p)
            prefixes.append(p)
    counters = dict.fromkeys(prefixes, 0)
    out = []
    for p in rng.choice(np.array(prefixes), size=n).tolist():
        counters[p] += 1
        out.append(f"{p}{counters[p]}")
    return np.array(out, dtype=object)


def sgd_feature_frame(genes: GeneTable) -> pd.DataFrame:
    """The genes plus ``YDL227C`` (HO) as the frame :func:`~geneint.data.genes.write_sgd_features`
    takes, ordered by chromosome and position like the real ``SGD_features.tab``."""
    description = {
        "Verified": "Synthetic protein generated by geneint.data.synthetic",
        "Uncharacterized": "Putative protein of unknown function (synthetic)",
        "Dubious": "Dubious open reading frame; unlikely to encode a functional protein "
                   "(synthetic)",
    }
    frame = pd.DataFrame({
        "gene": genes.names, "standard_name": genes.standard_names,
        "qualifier": genes.qualifier, "chromosome": genes.chromosome, "start": genes.start,
        "stop": genes.stop, "strand": genes.strand,
        "description": [description[q] for q in genes.qualifier],
    })
    ho = pd.DataFrame([{
        "gene": HO_MARKER, "standard_name": "HO", "qualifier": "Verified", "chromosome": 4,
        "start": 48031, "stop": 46271, "strand": "C",
        "description": "Site-specific endonuclease required for gene conversion at the MAT "
                       "locus; the hoΔ marker of SGA query strains",
    }])
    frame = pd.concat([frame, ho], ignore_index=True)
    frame["_left"] = np.minimum(frame["start"], frame["stop"])
    frame = frame.sort_values(["chromosome", "_left", "gene"], kind="stable")
    return frame.drop(columns="_left").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Hidden factors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneFactors:
    """Hidden per-gene variables (row ``i`` = gene index ``i``)."""

    z: np.ndarray  # (G, K) float64
    module: np.ndarray  # (G,) int, -1 = no module
    bias: np.ndarray  # (G,) additive bias of the latent interaction strength
    fitness: np.ndarray  # (G,) single-mutant fitness

    @property
    def unit(self) -> np.ndarray:
        """``ẑ = z / |z|``, the directions whose dot products are the cosine similarities."""
        return self.z / np.linalg.norm(self.z, axis=1, keepdims=True)


def default_modules(n_genes: int) -> int:
    """``round(1.4 · G^(1/3))`` modules: 12 for the demo's 600 genes, 26 for 6,607."""
    return max(2, round(1.4 * n_genes ** (1 / 3)))


def draw_factors(
    n_genes: int,
    rng: np.random.Generator,
    n_factors: int = 8,
    n_modules: int | None = None,
    module_spread: float = 0.45,
    unstructured: float = 0.15,
    bias_sd: float = 0.3,
) -> GeneFactors:
    """Draw module-structured factors ``z``, biases and single-mutant fitness.

    Module sizes vary (Dirichlet(2) proportions); ``unstructured`` of the genes belong to no
    module. Within-module cosine ≈ 1 / (1 + module_spread²) ≈ 0.83.
    """
    n_modules = n_modules if n_modules is not None else default_modules(n_genes)
    centres = rng.standard_normal((n_modules, n_factors))
    proportions = rng.dirichlet(np.full(n_modules, 2.0))
    module = rng.choice(n_modules, size=n_genes, p=proportions)
    module[rng.random(n_genes) < unstructured] = -1
    noise = rng.standard_normal((n_genes, n_factors))
    z = np.where(module[:, None] >= 0, centres[np.maximum(module, 0)] + module_spread * noise,
                 noise)
    bias = bias_sd * rng.standard_normal(n_genes)
    fitness = rng.uniform(0.6, 1.05, size=n_genes)
    return GeneFactors(z=z, module=module, bias=bias, fitness=fitness)


# --------------------------------------------------------------------------------------------
# Pairs and STRING channels
# --------------------------------------------------------------------------------------------


def n_pairs(n_genes: int) -> int:
    return n_genes * (n_genes - 1) // 2


def _row_offsets(n_genes: int) -> np.ndarray:
    i = np.arange(n_genes + 1, dtype=np.int64)
    return i * (2 * n_genes - i - 1) // 2


def pair_ids(i: np.ndarray, j: np.ndarray, n_genes: int) -> np.ndarray:
    """Linear upper-triangle index of pairs ``i < j`` (row-major, diagonal excluded)."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    return _row_offsets(n_genes)[i] + (j - i - 1)


def pair_genes(ids: np.ndarray, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pair_ids`: ``(i, j)`` with ``i < j``."""
    ids = np.asarray(ids, dtype=np.int64)
    offsets = _row_offsets(n_genes)
    i = np.searchsorted(offsets, ids, side="right") - 1
    return i, ids - offsets[i] + i + 1


def pair_cosines(unit: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair, float32, indexed by :func:`pair_ids` (G(G−1)/2 values;
    ~87 MB for 6,607 genes — never a G×G float64 matrix)."""
    g = len(unit)
    u = unit.astype(np.float32)
    out = np.empty(n_pairs(g), dtype=np.float32)
    offsets = _row_offsets(g)
    for i in range(g - 1):
        out[offsets[i]:offsets[i + 1]] = u[i + 1:] @ u[i]
    return out


def target_edges(spec: ChannelSpec, n_genes: int) -> int:
    """The channel's seed edge count scaled to ``n_genes`` (same mean degree)."""
    return min(round(spec.seed_edges * n_genes / SEED_GENES), n_pairs(n_genes))


def sample_edges(
    cosine: np.ndarray,
    n_edges: int,
    slope: float,
    rng: np.random.Generator,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``n_edges`` distinct pairs, each with weight ``exp(slope · cosine)``.

    Weighted sampling without replacement by the Gumbel top-k trick: keep the ``n_edges``
    largest ``slope · cosine + Gumbel`` keys. ``exclude`` (pair ids) are never drawn.

    Returns:
        Sorted pair ids (int64).
    """
    key = rng.random(len(cosine), dtype=np.float32)
    with np.errstate(divide="ignore"):
        np.log(key, out=key)
        np.negative(key, out=key)
        np.log(key, out=key)  # key = log(-log U) = -Gumbel
    np.subtract(np.float32(slope) * cosine, key, out=key)
    if exclude is not None and len(exclude):
        key[exclude] = -np.inf
    available = len(key) - (0 if exclude is None else len(exclude))
    n_edges = min(n_edges, available)
    if n_edges <= 0:
        return np.array([], dtype=np.int64)
    top = np.argpartition(key, len(key) - n_edges)[len(key) - n_edges:]
    return np.sort(top).astype(np.int64)


def draw_scores(cosine: np.ndarray, loc: float, gain: float, sd: float,
                rng: np.random.Generator) -> np.ndarray:
    """Integer scores 1..999: ``1000 · sigmoid(loc + gain · cosine + sd · N(0, 1))``."""
    logit = loc + gain * cosine.astype(np.float64) + sd * rng.standard_normal(len(cosine))
    return np.clip(np.round(1000 * expit(logit)), 1, 999).astype(np.int64)


def combined_scores(scores: np.ndarray) -> np.ndarray:
    """STRING-style combination ``1000 · (1 − Π (1 − s/1000))`` of a (pairs, channels) matrix,
    rounded, at most 999."""
    p = 1.0 - np.prod(1.0 - scores / 1000.0, axis=1)
    return np.minimum(np.round(1000 * p), 999).astype(np.int64)


@dataclass
class StringRelease:
    """Per-pair scores of one release: ``pairs`` (sorted pair ids) and an (n, 8) int matrix in
    STRING column order (6 channels, textmining, combined_score)."""

    pairs: np.ndarray
    scores: np.ndarray
    stats: dict[str, Any]

    def frame(self, genes: np.ndarray) -> pd.DataFrame:
        """The frame :func:`~geneint.data.string.write_string_links` takes."""
        i, j = pair_genes(self.pairs, len(genes))
        frame = pd.DataFrame({"gene_a": genes[i], "gene_b": genes[j]})
        for k, col in enumerate([*CHANNEL_NAMES, "textmining", "combined_score"]):
            frame[col] = self.scores[:, k]
        return frame


def _assemble(channel_pairs: dict[str, np.ndarray], channel_scores: dict[str, np.ndarray],
              text_pairs: np.ndarray, text_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of all pairs with their (n, 8) score matrix (combined score filled in)."""
    pairs = np.unique(np.concatenate([*channel_pairs.values(), text_pairs]))
    scores = np.zeros((len(pairs), 8), dtype=np.int64)
    for k, name in enumerate(CHANNEL_NAMES):
        scores[np.searchsorted(pairs, channel_pairs[name]), k] = channel_scores[name]
    scores[np.searchsorted(pairs, text_pairs), 6] = text_scores
    scores[:, 7] = combined_scores(scores[:, :7])
    return pairs, scores


def _textmining(cosine: np.ndarray, pairs: np.ndarray, rng: np.random.Generator,
                extra_fraction: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Text-mining scores for ~70 % of the linked ``pairs`` plus some text-only pairs."""
    covered = pairs[rng.random(len(pairs)) < 0.7]
    extra = sample_edges(cosine, round(extra_fraction * len(pairs)), 2.0, rng, exclude=pairs)
    text_pairs = np.unique(np.concatenate([covered, extra]))
    return text_pairs, draw_scores(cosine[text_pairs], -1.4, 1.5, 0.9, rng)


def make_string_v9(cosine: np.ndarray, n_genes: int, rng: np.random.Generator
                   ) -> StringRelease:
    """The older release: every channel draws its scaled edge count (see module docstring);
    pairs whose combined score falls below 150 are dropped and counted."""
    channel_pairs, channel_scores = {}, {}
    for spec in CHANNELS:
        edges = sample_edges(cosine, target_edges(spec, n_genes), spec.slope, rng)
        channel_pairs[spec.name] = edges
        channel_scores[spec.name] = draw_scores(cosine[edges], spec.score_loc, spec.score_gain,
                                                spec.score_sd, rng)
    linked = np.unique(np.concatenate(list(channel_pairs.values())))
    text_pairs, text_scores = _textmining(cosine, linked, rng)
    pairs, scores = _assemble(channel_pairs, channel_scores, text_pairs, text_scores)
    keep = scores[:, 7] >= MIN_COMBINED_SCORE
    stats: dict[str, Any] = {
        "pairs_below_150_dropped": int((~keep).sum()),
        "channel_edges_dropped": {c: int(((scores[:, k] > 0) & ~keep).sum())
                                  for k, c in enumerate(CHANNEL_NAMES)},
    }
    release = StringRelease(pairs[keep], scores[keep], stats)
    _finish_stats(release, n_genes)
    return release


def make_string_v11(old: StringRelease, cosine: np.ndarray, n_genes: int,
                    rng: np.random.Generator) -> StringRelease:
    """The newer release: keeps every row of ``old`` (scores shift a little, combined score
    floored at 150) and gains, per channel, ``gain_fraction`` of the pairs ``old`` did not link
    in that channel. Gained pairs with a combined score below 150 are dropped and counted."""
    channel_pairs, channel_scores = {}, {}
    for k, spec in enumerate(CHANNELS):
        present = old.scores[:, k] > 0
        kept = old.pairs[present]
        shifted = np.clip(old.scores[present, k] + np.round(12 * rng.standard_normal(len(kept))),
                          1, 999).astype(np.int64)
        zeros = n_pairs(n_genes) - len(kept)
        gained = sample_edges(cosine, round(spec.gain_fraction * zeros), spec.slope, rng,
                              exclude=kept)
        channel_pairs[spec.name] = np.concatenate([kept, gained])
        channel_scores[spec.name] = np.concatenate([shifted, draw_scores(
            cosine[gained], spec.score_loc, spec.score_gain, spec.score_sd, rng)])
    old_text = old.scores[:, 6] > 0
    text_old = old.pairs[old_text]
    text_old_scores = np.clip(old.scores[old_text, 6]
                              + np.round(np.abs(15 * rng.standard_normal(int(old_text.sum())))),
                              1, 999).astype(np.int64)
    new_pairs = np.setdiff1d(np.concatenate(list(channel_pairs.values())), old.pairs)
    text_new, text_new_scores = _textmining(cosine, new_pairs, rng, extra_fraction=0.05)
    text_new_keep = ~np.isin(text_new, old.pairs)
    pairs, scores = _assemble(
        channel_pairs, channel_scores, np.concatenate([text_old, text_new[text_new_keep]]),
        np.concatenate([text_old_scores, text_new_scores[text_new_keep]]))
    in_old = np.isin(pairs, old.pairs)
    scores[in_old, 7] = np.maximum(scores[in_old, 7], MIN_COMBINED_SCORE)
    keep = scores[:, 7] >= MIN_COMBINED_SCORE
    stats: dict[str, Any] = {
        "pairs_below_150_dropped": int((~keep).sum()),
        "channel_edges_dropped": {c: int(((scores[:, k] > 0) & ~keep).sum())
                                  for k, c in enumerate(CHANNEL_NAMES)},
    }
    release = StringRelease(pairs[keep], scores[keep], stats)
    _finish_stats(release, n_genes)
    total = n_pairs(n_genes)
    release.stats["gained_zero_fraction"] = {
        c: round((release.stats["edges"][c] - old.stats["edges"][c])
                 / (total - old.stats["edges"][c]), 6) for c in CHANNEL_NAMES}
    return release


def _finish_stats(release: StringRelease, n_genes: int) -> None:
    release.stats["pairs"] = len(release.pairs)
    release.stats["edges"] = {c: int((release.scores[:, k] > 0).sum())
                              for k, c in enumerate(CHANNEL_NAMES)}
    release.stats["targets"] = {c.name: target_edges(c, n_genes) for c in CHANNELS}
    linked = np.zeros(n_genes, dtype=bool)
    i, j = pair_genes(release.pairs[(release.scores[:, :6] > 0).any(axis=1)], n_genes)
    linked[i] = linked[j] = True
    release.stats["genes_linked"] = int(linked.sum())


# --------------------------------------------------------------------------------------------
# Interaction scores
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Screen design
# --------------------------------------------------------------------------------------------


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
    """Draw a Kuzmin-style screen (see the module docstring for the design)."""
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


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


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


def _tsv(frame: pd.DataFrame, float_format: str = "%.8g") -> str:
    return frame.to_csv(sep="\t", index=False, lineterminator="\n", float_format=float_format)


def _repeated_sets(sets: np.ndarray, arity: int) -> int:
    mask = (sets[:, 2] >= 0) if arity == 3 else (sets[:, 2] < 0)
    _, counts = np.unique(sets[mask], axis=0, return_counts=True)
    return int((counts > 1).sum())


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    return round(float(np.corrcoef(a, b)[0, 1]), 4) if len(a) > 1 else None


def resolve_scale(scale: str | ScaleSpec) -> ScaleSpec:
    if isinstance(scale, ScaleSpec):
        return scale
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    return SCALES[scale]


def synthesize(out_dir: PathLike, seed: int = 0, scale: str | ScaleSpec = "demo",
               noise_sd: float | None = None) -> dict[str, Any]:
    """Write a complete synthetic raw data set (see the module docstring) into ``out_dir``.

    Args:
        out_dir: folder that receives ``string/``, ``kuzmin2018/``, ``sgd/``, ``truth/`` and
            ``manifest.json``; existing files are replaced atomically.
        seed: everything is drawn from ``numpy.random.default_rng(seed)``; the same seed gives
            byte-identical files.
        scale: ``"demo"`` (600 genes, ~20k trigenic rows), ``"seed"`` (6,607 genes, ~91k
            trigenic rows) or a :class:`ScaleSpec`.
        noise_sd: sd of the Gaussian measurement noise on τ and ε; ``None`` picks it so that
            Pearson(observed, noise-free τ) over trigenic rows is about 0.825.

    Returns:
        The manifest: ``files`` (absolute paths here; relative to ``out_dir`` in
        ``manifest.json``, so the file does not depend on where it was written) and key
        numbers — genes, edges per channel and release, gained-zero fractions, rows, repeated
        sets, noise sd, oracle Pearson.
    """
    if noise_sd is not None and not noise_sd >= 0:
        raise ValueError(f"noise_sd must be a non-negative number or None, got {noise_sd!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    spec = resolve_scale(scale)
    scale_name = scale if isinstance(scale, str) else "custom"
    rng = np.random.default_rng(seed)

    genes = make_genes(spec.n_genes, rng)
    factors = draw_factors(spec.n_genes, rng, n_factors=spec.n_factors, n_modules=spec.n_modules)
    log.info("genes: %s (+%s in SGD), %s modules, K=%d", f"{len(genes):,}", HO_MARKER,
             int(factors.module.max()) + 1, spec.n_factors)

    cosine = pair_cosines(factors.unit)
    v9 = make_string_v9(cosine, len(genes), rng)
    v11 = make_string_v11(v9, cosine, len(genes), rng)
    del cosine
    for version, release in zip(RELEASES, (v9, v11), strict=True):
        log.info("STRING v%s: %s pairs (%s dropped below %d), edges %s", version,
                 f"{release.stats['pairs']:,}", f"{release.stats['pairs_below_150_dropped']:,}",
                 MIN_COMBINED_SCORE, release.stats["edges"])
    log.info("v11.0 gained fraction of v9.1 zeros: %s", v11.stats["gained_zero_fraction"])

    design = design_screen(factors, spec, rng)
    screen = observe_screen(design, genes, factors, rng, noise_sd=noise_sd)
    truth = truth_table(screen, genes)

    files = {
        "string_v9.1": STRING_FILE.format(version="9.1"),
        "string_v11.0": STRING_FILE.format(version="11.0"),
        "kuzmin2018": KUZMIN_FILE,
        "sgd_features": SGD_FILE,
        "truth_tau": TRUTH_FILE,
        "truth_factors": FACTORS_FILE,
    }
    for version, release in zip(RELEASES, (v9, v11), strict=True):
        write_string_links(release.frame(genes.names), out_dir / files[f"string_v{version}"],
                           version=version)
    write_kuzmin2018_tsv(screen.rows, out_dir / KUZMIN_FILE)
    write_sgd_features(sgd_feature_frame(genes), out_dir / SGD_FILE)
    write_text_atomic(out_dir / TRUTH_FILE, _tsv(truth))
    factor_frame = pd.DataFrame({
        "gene": genes.names, "module": factors.module, "bias": factors.bias,
        "fitness": factors.fitness,
        **{f"z{d + 1}": factors.z[:, d] for d in range(factors.z.shape[1])},
    })
    write_text_atomic(out_dir / FACTORS_FILE, _tsv(factor_frame, float_format="%.6f"))

    tri = screen.gene_sets[:, 2] >= 0
    tau_tri = screen.tau_noise_free[tri]
    combined_col = screen.rows.iloc[:, 10].astype(float).to_numpy()
    screened = np.unique(screen.gene_sets[screen.gene_sets >= 0])
    manifest: dict[str, Any] = {
        "generator": "geneint.data.synthetic",
        "seed": seed,
        "scale": scale_name,
        "scale_spec": asdict(spec),
        "files": files,
        "genes": {
            "n_genes": len(genes),
            "n_sgd_orfs": len(genes) + 1,
            "n_factors": int(factors.z.shape[1]),
            "n_modules": int(factors.module.max()) + 1,
            "genes_without_module": int((factors.module < 0).sum()),
        },
        "string": {version: release.stats for version, release in
                   zip(RELEASES, (v9, v11), strict=True)},
        "kuzmin2018": {
            "rows": len(screen.rows),
            "trigenic_rows": int(tri.sum()),
            "digenic_rows": int((~tri).sum()),
            "double_mutant_queries": int((design.query_genes[:, 1] >= 0).sum()),
            "single_mutant_queries": int((design.query_genes[:, 1] < 0).sum()),
            "array_strains": len(design.array_genes),
            "ts_array_strains": int(design.array_ts.sum()),
            "genes_screened": len(screened),
            "unique_trigenic_sets": int((truth["gene_c"] != "").sum()),
            "unique_digenic_sets": int((truth["gene_c"] == "").sum()),
            "repeated_trigenic_sets": _repeated_sets(screen.gene_sets, 3),
            "repeated_digenic_sets": _repeated_sets(screen.gene_sets, 2),
            "rows_negative_combined_fitness": int((combined_col < 0).sum()),
        },
        "signal": {
            "noise_sd": round(screen.noise_sd, 6),
            "oracle_pearson_trigenic": _pearson(screen.tau_observed[tri], tau_tri),
            "tau_noise_free_min": round(float(tau_tri.min()), 4) if len(tau_tri) else None,
            "tau_noise_free_max": round(float(tau_tri.max()), 4) if len(tau_tri) else None,
            "tau_noise_free_sd": round(float(tau_tri.std()), 4) if len(tau_tri) else None,
            "fraction_tau_below_-0.05": round(float((tau_tri < -0.05).mean()), 4)
            if len(tau_tri) else None,
            "fraction_tau_above_0.05": round(float((tau_tri > 0.05).mean()), 4)
            if len(tau_tri) else None,
        },
    }
    write_text_atomic(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    log.info("screen: %s trigenic + %s digenic rows, %s genes, %d repeated triples; noise sd "
             "%.4f, oracle Pearson %s", f"{manifest['kuzmin2018']['trigenic_rows']:,}",
             f"{manifest['kuzmin2018']['digenic_rows']:,}", f"{len(screened):,}",
             manifest["kuzmin2018"]["repeated_trigenic_sets"], screen.noise_sd,
             manifest["signal"]["oracle_pearson_trigenic"])
    log.info("synthetic data set (seed %d, scale %s) written to %s in %.1f s", seed, scale_name,
             out_dir, time.perf_counter() - started)
    result = dict(manifest)
    result["files"] = {k: str(out_dir / v) for k, v in files.items()}
    result["files"]["manifest"] = str(out_dir / MANIFEST_FILE)
    return result
