"""The synthetic genes and their hidden variables.

:func:`make_genes` draws real-looking systematic names with coordinates and annotation (a
:class:`GeneTable`), :func:`sgd_feature_frame` turns them (plus ``YDL227C``) into the
``SGD_features.tab`` frame, and :func:`draw_factors` draws the hidden per-gene factors, modules,
biases and single-mutant fitness (a :class:`GeneFactors`) that every score is computed from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geneint.data.files import HO_MARKER, ORF_PATTERN

# Real chromosome lengths (kb) and centromere positions (fraction of length), chr I..XVI.
_CHROMOSOME_KB = np.array([230, 813, 317, 1532, 577, 270, 1091, 563, 440, 746, 667, 1078, 924,
                           784, 1091, 948], dtype=np.float64)
_CENTROMERE = np.array([0.66, 0.29, 0.36, 0.29, 0.26, 0.55, 0.46, 0.19, 0.81, 0.58, 0.66, 0.14,
                        0.29, 0.80, 0.30, 0.59])
_CHROMOSOME_LETTERS = "ABCDEFGHIJKLMNOP"


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

    Names match :data:`geneint.data.files.ORF_PATTERN`; ``YDL227C`` (and any ``YDL227`` name) is
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
