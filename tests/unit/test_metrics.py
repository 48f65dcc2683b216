"""regression_metrics against scipy/numpy references, including hand-written AUROC and AP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from geneint.evaluate.metrics import (
    DEFAULT_STRONG_THRESHOLD,
    pearson,
    regression_metrics,
    to_tensor,
)

T = DEFAULT_STRONG_THRESHOLD
#: torchmetrics ranks (Spearman) and accumulates the ROC/PR curves in float32
F32 = 1e-6


def auroc_mann_whitney(score: np.ndarray, label: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counting one half."""
    pos, neg = score[label], score[~label]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def average_precision(score: np.ndarray, label: np.ndarray) -> float:
    """AP = Σ_t (R_t − R_{t−1}) P_t over the distinct score thresholds t, highest first."""
    ap, recall_prev = 0.0, 0.0
    for t in np.unique(score)[::-1]:
        chosen = score >= t
        tp = (label & chosen).sum()
        recall = tp / label.sum()
        ap += (recall - recall_prev) * tp / chosen.sum()
        recall_prev = recall
    return float(ap)


def sample(n: int = 400, seed: int = 0, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    noise_free = rng.normal(0, 0.08, n)
    target = noise_free + rng.normal(0, 0.03, n)
    pred = scale * (0.6 * target + rng.normal(0, 0.05, n))
    return pred, target, noise_free


def test_reference_helpers_on_a_hand_example():
    score = np.array([0.4, 0.5, 0.1, 0.2])
    label = np.array([False, True, False, True])
    # positives 0.5, 0.2 vs negatives 0.4, 0.1: 0.5 beats both, 0.2 beats 0.1 -> 3/4
    assert auroc_mann_whitney(score, label) == 0.75
    # ranking 0.5(+) 0.4(-) 0.2(+) 0.1(-): precisions at the positives 1/1, 2/3
    assert average_precision(score, label) == pytest.approx((1 + 2 / 3) / 2)


def test_correlations_and_mse_match_scipy_and_numpy():
    pred, target, _ = sample()
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    assert out["n"] == 400
    assert out["pearson"] == pytest.approx(stats.pearsonr(pred, target)[0], abs=1e-10)
    assert out["spearman"] == pytest.approx(stats.spearmanr(pred, target)[0], abs=F32)
    assert out["mse"] == pytest.approx(np.mean((pred - target) ** 2), rel=1e-10)
    assert out["strong_threshold"] == T
    assert "oracle_pearson" not in out and "pearson_vs_noise_free" not in out
    assert pearson(torch.tensor(pred), torch.tensor(target)) == pytest.approx(out["pearson"])


def test_float32_and_2d_inputs_are_flattened():
    pred, target, _ = sample(seed=1)
    out = regression_metrics(torch.tensor(pred, dtype=torch.float32).view(-1, 1),
                             torch.tensor(target, dtype=torch.float32))
    p32 = pred.astype(np.float32).astype(np.float64)
    t32 = target.astype(np.float32).astype(np.float64)
    assert out["pearson"] == pytest.approx(stats.pearsonr(p32, t32)[0], abs=1e-10)


def test_spearman_with_ties_matches_scipy():
    pred, target, _ = sample(seed=2)
    pred, target = np.round(pred, 2), np.round(target, 2)  # many ties
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    assert out["spearman"] == pytest.approx(stats.spearmanr(pred, target)[0], abs=F32)


def test_strong_subset_metrics():
    pred, target, _ = sample(seed=3)
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    strong = np.abs(target) > T
    assert 10 < strong.sum() < len(target)
    assert out["n_strong"] == int(strong.sum())
    assert out["strong_fraction"] == pytest.approx(strong.mean())
    assert out["pearson_strong"] == pytest.approx(
        stats.pearsonr(pred[strong], target[strong])[0], abs=1e-10)
    assert out["spearman_strong"] == pytest.approx(
        stats.spearmanr(pred[strong], target[strong])[0], abs=F32)
    assert out["mse_strong"] == pytest.approx(np.mean((pred[strong] - target[strong]) ** 2))


def test_strong_threshold_is_strict_and_configurable():
    target = np.array([0.05, -0.05, 0.0501, -0.2, 0.01, 0.3, -0.049])
    pred = np.array([0.1, 0.0, 0.2, -0.1, 0.05, 0.2, 0.0])
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    assert out["n_strong"] == 3  # ±0.05 exactly are not strong
    out = regression_metrics(torch.tensor(pred), torch.tensor(target), strong_threshold=0.1)
    assert out["n_strong"] == 2 and out["strong_threshold"] == 0.1


def test_a_threshold_per_set_counts_each_against_its_own():
    target = torch.tensor([0.06, 0.06, 0.2, -0.3, 0.01])
    per_set = torch.tensor([0.05, 0.1, 0.1, 0.1, 0.05])
    out = regression_metrics(target * 2, target, strong_threshold=per_set)
    assert out["n_strong"] == 3 and math.isnan(out["strong_threshold"])


@pytest.mark.parametrize("seed, scale", [(4, 1.0), (5, 1.0), (6, 20.0), (7, 1000.0)])
def test_auroc_auprc_match_hand_references(seed, scale):
    pred, target, _ = sample(seed=seed, scale=scale)
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    score, label = np.abs(pred), np.abs(target) > T
    assert out["auroc"] == pytest.approx(auroc_mann_whitney(score, label), abs=F32)
    assert out["auprc"] == pytest.approx(average_precision(score, label), abs=F32)


def test_auroc_auprc_with_tied_predictions():
    pred, target, _ = sample(seed=8)
    pred = np.round(pred, 2)
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    score, label = np.abs(pred), np.abs(target) > T
    assert len(np.unique(score)) < len(score) / 2
    assert out["auroc"] == pytest.approx(auroc_mann_whitney(score, label), abs=F32)
    assert out["auprc"] == pytest.approx(average_precision(score, label), abs=F32)


def test_auroc_auprc_not_distorted_by_large_predictions():
    # torchmetrics reads scores outside [0, 1] as logits and applies a sigmoid, which rounds to
    # exactly 1.0 for scores above ~37 and so ties them; the score must stay |τ̂| (any scale)
    target = np.array([0.0, 0.2, 0.01, -0.3])
    pred = np.array([40.0, 50.0, 1.0, -2.0])  # same ranking as the hand example above
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    assert out["auroc"] == pytest.approx(0.75)
    assert out["auprc"] == pytest.approx((1 + 2 / 3) / 2)
    big = regression_metrics(torch.tensor(pred * 1e6), torch.tensor(target))
    assert (big["auroc"], big["auprc"]) == (out["auroc"], out["auprc"])


def test_auroc_uses_magnitude_of_prediction():
    # strong interactions predicted strongly negative still rank first
    target = np.array([-0.2, -0.1, 0.01, 0.02, -0.3, 0.0])
    pred = np.array([-0.5, -0.4, 0.1, -0.05, -0.6, 0.0])
    out = regression_metrics(torch.tensor(pred), torch.tensor(target))
    assert out["auroc"] == 1.0 and out["auprc"] == 1.0


def test_oracle_metrics_only_with_noise_free():
    pred, target, noise_free = sample(seed=9)
    out = regression_metrics(torch.tensor(pred), torch.tensor(target),
                             noise_free=torch.tensor(noise_free))
    assert out["oracle_pearson"] == pytest.approx(stats.pearsonr(target, noise_free)[0],
                                                  abs=1e-10)
    assert out["oracle_spearman"] == pytest.approx(stats.spearmanr(target, noise_free)[0],
                                                   abs=F32)
    assert out["pearson_vs_noise_free"] == pytest.approx(stats.pearsonr(pred, noise_free)[0],
                                                         abs=1e-10)
    assert 0.8 < out["oracle_pearson"] < 1


def test_constant_predictions_give_nan_not_an_exception():
    _, target, _ = sample(seed=10)
    out = regression_metrics(torch.full((len(target),), 0.1, dtype=torch.float64),
                             torch.tensor(target))
    for key in ("pearson", "spearman", "pearson_strong", "spearman_strong"):
        assert math.isnan(out[key]), key
    assert out["mse"] == pytest.approx(np.mean((0.1 - target) ** 2))
    assert out["auroc"] == pytest.approx(0.5)  # every score tied
    assert math.isnan(pearson(torch.zeros(5), torch.arange(5.0)))


def test_no_strong_sets_and_all_strong_sets_give_nan():
    pred, target, _ = sample(seed=11)
    weak = torch.tensor(target / np.abs(target).max() * 0.04)
    out = regression_metrics(torch.tensor(pred), weak)
    assert out["n_strong"] == 0 and out["strong_fraction"] == 0.0
    for key in ("pearson_strong", "spearman_strong", "mse_strong", "auroc", "auprc"):
        assert math.isnan(out[key]), key
    assert not math.isnan(out["pearson"])
    strong = torch.tensor(np.sign(target) * (np.abs(target) + 0.1))
    out = regression_metrics(torch.tensor(pred), strong)
    assert out["strong_fraction"] == 1.0
    assert math.isnan(out["auroc"]) and math.isnan(out["auprc"])
    assert not math.isnan(out["pearson_strong"])


def test_fewer_than_three_strong_or_total_sets():
    out = regression_metrics(torch.tensor([0.1, 0.2, 0.3, 0.4]),
                             torch.tensor([0.0, 0.01, 0.2, -0.3]))
    assert out["n_strong"] == 2 and math.isnan(out["pearson_strong"])
    assert out["auroc"] == 1.0
    out = regression_metrics(torch.tensor([0.1, 0.2]), torch.tensor([0.2, 0.1]))
    assert math.isnan(out["pearson"]) and math.isnan(out["spearman"])
    out = regression_metrics(torch.zeros(0), torch.zeros(0))
    assert out["n"] == 0 and math.isnan(out["mse"]) and math.isnan(out["pearson"])


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="differ"):
        regression_metrics(torch.zeros(5), torch.zeros(6))


def test_to_tensor():
    t = to_tensor([1, 2, 3])
    assert t.dtype == torch.float64 and t.tolist() == [1.0, 2.0, 3.0]
