"""Configuration of the synthetic data set: the six STRING channels, the named sizes.

:class:`ChannelSpec` and :data:`CHANNELS` say how each STRING channel draws its edges and scores;
:class:`ScaleSpec` and :data:`SCALES` give the sizes of the ``demo`` and ``seed`` data sets
(:func:`resolve_scale` turns a name into a spec); the module-level constants are the numbers the
other parts of :mod:`geneint.data.synthetic` share (seed gene count, STRING score floor, target
oracle Pearson, releases written).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Number of genes the seed (real-data) edge counts refer to.
SEED_GENES = 6607
#: STRING floor: a pair is listed only when its combined score reaches this.
MIN_COMBINED_SCORE = 150
#: Target oracle Pearson(τ_obs, τ) over trigenic rows when ``noise_sd`` is not given.
TARGET_ORACLE_PEARSON = 0.825
#: STRING releases written, oldest first.
RELEASES = ("9.1", "11.0")


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
        n_modules: module centres; ``None`` =
            :func:`~geneint.data.synthetic.genes.default_modules`.
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


def resolve_scale(scale: str | ScaleSpec) -> ScaleSpec:
    if isinstance(scale, ScaleSpec):
        return scale
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    return SCALES[scale]
