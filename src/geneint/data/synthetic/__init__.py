"""A synthetic yeast data set with a planted, learnable trigenic signal, in the published formats.

:func:`synthesize` writes everything the pipeline reads, byte-for-byte reproducible from one seed:

======================================================  ========================================
file                                                    format and writer
======================================================  ========================================
``string/4932.protein.links.detailed.v9.1.txt.gz``      STRING links.detailed
                                                        (:func:`.string_writer.write_string_links`)
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

Modules
-------
=======================  =================================================================
module                   contents
=======================  =================================================================
``scales.py``            :class:`ChannelSpec`, :data:`CHANNELS`, :class:`ScaleSpec`,
                         :data:`SCALES`, :func:`resolve_scale`, shared constants
``genes.py``             :class:`GeneTable`, :func:`make_genes`, :func:`sgd_feature_frame`,
                         :class:`GeneFactors`, :func:`draw_factors` (names, hidden factors)
``string_releases.py``   pair indexing, :func:`sample_edges`, channel and combined scores,
                         :class:`StringRelease`, :func:`make_string_v9`, :func:`make_string_v11`
``scores.py``            :func:`epsilon_noise_free`, :func:`tau_latent`,
                         :func:`expected_triple_fitness`, :func:`tau_noise_free`
``screen.py``            :class:`ScreenDesign`, :func:`design_screen`, :class:`Screen`,
                         :func:`observe_screen`, :func:`truth_table`
``writer.py``            :func:`synthesize` and the output file names
=======================  =================================================================

Imports between them go one way: ``writer`` uses all the others, ``screen`` uses ``scores``,
``genes`` and ``scales``, ``scores`` uses ``genes``, ``string_releases`` uses ``scales``;
``scales`` and ``genes`` use none. Every public name is re-exported here.
"""

from __future__ import annotations

from geneint.data.synthetic.genes import (
    GeneFactors,
    GeneTable,
    default_modules,
    draw_factors,
    make_genes,
    make_standard_names,
    sgd_feature_frame,
)
from geneint.data.synthetic.scales import (
    CHANNEL_NAMES,
    CHANNELS,
    MIN_COMBINED_SCORE,
    RELEASES,
    SCALES,
    SEED_GENES,
    TARGET_ORACLE_PEARSON,
    ChannelSpec,
    ScaleSpec,
    resolve_scale,
)
from geneint.data.synthetic.scores import (
    epsilon_noise_free,
    expected_triple_fitness,
    tau_latent,
    tau_noise_free,
)
from geneint.data.synthetic.screen import (
    Screen,
    ScreenDesign,
    design_screen,
    observe_screen,
    truth_table,
)
from geneint.data.synthetic.string_releases import (
    StringRelease,
    combined_scores,
    draw_scores,
    make_string_v9,
    make_string_v11,
    n_pairs,
    pair_cosines,
    pair_genes,
    pair_ids,
    sample_edges,
    target_edges,
)
from geneint.data.synthetic.writer import (
    FACTORS_FILE,
    KUZMIN_FILE,
    MANIFEST_FILE,
    SGD_FILE,
    STRING_FILE,
    TRUTH_FILE,
    TRUTH_HEADER,
    synthesize,
)

__all__ = [
    "CHANNELS",
    "CHANNEL_NAMES",
    "FACTORS_FILE",
    "KUZMIN_FILE",
    "MANIFEST_FILE",
    "MIN_COMBINED_SCORE",
    "RELEASES",
    "SCALES",
    "SEED_GENES",
    "SGD_FILE",
    "STRING_FILE",
    "TARGET_ORACLE_PEARSON",
    "TRUTH_FILE",
    "TRUTH_HEADER",
    "ChannelSpec",
    "GeneFactors",
    "GeneTable",
    "ScaleSpec",
    "Screen",
    "ScreenDesign",
    "StringRelease",
    "combined_scores",
    "default_modules",
    "design_screen",
    "draw_factors",
    "draw_scores",
    "epsilon_noise_free",
    "expected_triple_fitness",
    "make_genes",
    "make_standard_names",
    "make_string_v9",
    "make_string_v11",
    "n_pairs",
    "observe_screen",
    "pair_cosines",
    "pair_genes",
    "pair_ids",
    "resolve_scale",
    "sample_edges",
    "sgd_feature_frame",
    "synthesize",
    "target_edges",
    "tau_latent",
    "tau_noise_free",
    "truth_table",
]
