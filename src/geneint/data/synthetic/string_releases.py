"""The two synthetic STRING releases (v9.1 and v11.0) of the same genes.

Pair indexing (:func:`pair_ids`, :func:`pair_genes`, :func:`pair_cosines`), weighted edge
sampling without replacement (:func:`sample_edges`), channel and combined scores, text mining,
and the releases themselves (:func:`make_string_v9`, :func:`make_string_v11`, each a
:class:`StringRelease` with its statistics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from geneint.data.synthetic.scales import (
    CHANNEL_NAMES,
    CHANNELS,
    MIN_COMBINED_SCORE,
    SEED_GENES,
    ChannelSpec,
)


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
        """The frame :func:`~geneint.data.string_writer.write_string_links` takes."""
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
    """The older release: every channel draws its scaled edge count (see package docstring);
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
