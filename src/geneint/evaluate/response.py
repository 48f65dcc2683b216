"""GEARS' metrics of predicted perturbation responses (``gears.inference``: ``compute_metrics``,
``deeper_analysis``, ``non_dropout_analysis``; ``gears.utils.get_coeffs``), and GRAPE's RMSE,
DAC and DE40 variants — computed per held-out perturbation, then averaged.

For a perturbation p with predicted mean profile ŷ, observed mean ȳ (over p's cells) and c the
mean of all control cells:

- ``mse`` / ``rmse`` / ``pearson``: ŷ against ȳ over all genes; ``pearson_delta``: ŷ − c
  against ȳ − c (the GEARS paper's correlation metric). A Pearson of a constant vector is 0.
- ``*_de`` (``*_de20``) and ``*_de40``: the same over p's top 20 / 40 genes of GEARS'
  ``rank_genes_groups_cov_all``; ``*_top20_de_non_dropout`` over ``top_non_dropout_de_20``.
- ``frac_correct_direction_<k>``: the fraction of the top-k DE genes where sign(ŷ − c) =
  sign(ȳ − c), ties included; ``_all`` over every gene is GRAPE's DAC.
- Double perturbations A+B: the genetic-interaction coefficients — TheilSen fit (no intercept)
  of the double's delta on the two singles' deltas, c₁ and c₂, magnitude √(c₁² + c₂²),
  dominance |log₁₀(c₁/c₂)|, ``corr_fit`` and the distance correlations — from the observed
  means and from the predicted ones.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import ConstantInputWarning, pearsonr

DIRECTION_TOP_K = (20, 40, 50, 100, 200)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """scipy's Pearson r, with GEARS' convention that an undefined one counts as 0."""
    if len(x) < 2:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        value = pearsonr(x, y)[0]
    return 0.0 if np.isnan(value) else float(value)


def mse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((np.asarray(x, np.float64) - y) ** 2))


def direction_metrics(delta_pred: np.ndarray, delta_true: np.ndarray, suffix: str) -> dict:
    change = np.abs(np.sign(delta_pred) - np.sign(delta_true))
    return {f"frac_correct_direction_{suffix}": float(np.mean(change == 0)),
            f"frac_opposite_direction_{suffix}": float(np.mean(change == 2))}


def gene_set_metrics(pred: np.ndarray, true: np.ndarray, control: np.ndarray, genes,
                     suffix: str) -> dict:
    pred, true, control = pred[genes], true[genes], control[genes]
    error = mse(pred, true)
    return {f"mse_{suffix}": error, f"rmse_{suffix}": float(np.sqrt(error)),
            f"pearson_{suffix}": pearson(pred, true),
            f"pearson_delta_{suffix}": pearson(pred - control, true - control)}


def perturbation_metrics(pred: np.ndarray, true: np.ndarray, control: np.ndarray,
                         de_ranked: np.ndarray, top20_non_dropout: np.ndarray) -> dict:
    """Every metric of one perturbation. ``de_ranked``: gene positions, GEARS' DE ranking;
    ``top20_non_dropout``: positions of ``top_non_dropout_de_20``."""
    pred, true, control = (np.asarray(v, dtype=np.float64) for v in (pred, true, control))
    every = np.arange(len(true))
    metrics = {key.removesuffix("_all"): value
               for key, value in gene_set_metrics(pred, true, control, every, "all").items()}
    for k in (20, 40):
        metrics.update(gene_set_metrics(pred, true, control, de_ranked[:k], f"de{k}"))
    # GEARS' own names for the top-20 metrics.
    metrics.update({"mse_de": metrics["mse_de20"], "pearson_de": metrics["pearson_de20"],
                    "pearson_delta_de": metrics["pearson_delta_de20"]})
    metrics.update(gene_set_metrics(pred, true, control, top20_non_dropout,
                                    "top20_de_non_dropout"))
    delta_pred, delta_true = pred - control, true - control
    metrics.update(direction_metrics(delta_pred, delta_true, "all"))
    metrics["dac"] = metrics["frac_correct_direction_all"]
    for k in DIRECTION_TOP_K:
        if k <= len(true):
            top = de_ranked[:k]
            metrics.update(direction_metrics(delta_pred[top], delta_true[top], str(k)))
    if len(top20_non_dropout):
        metrics.update(direction_metrics(delta_pred[top20_non_dropout],
                                         delta_true[top20_non_dropout],
                                         "top20_non_dropout"))
    return metrics


def distance_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Székely's distance correlation (the V-statistic ``dcor.distance_correlation`` computes;
    equal to it in the tests). Written out because importing dcor costs ~6 s of numba
    loading in every evaluation job."""
    from scipy.spatial.distance import cdist

    def centred(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        d = cdist(v.reshape(len(v), -1), v.reshape(len(v), -1))
        return d - d.mean(0) - d.mean(1)[:, None] + d.mean()

    a, b = centred(x), centred(y)
    denominator = np.sqrt((a * a).mean() * (b * b).mean())
    return float(np.sqrt(max((a * b).mean(), 0.0) / denominator)) if denominator > 0 else 0.0


def interaction_coefficients(first: np.ndarray, second: np.ndarray, double: np.ndarray
                             ) -> dict:
    """GEARS' ``get_coeffs`` on deltas from the control: how the double's effect combines
    the singles'."""
    from sklearn.linear_model import TheilSenRegressor

    singles = np.column_stack([first, second])
    fit = TheilSenRegressor(fit_intercept=False, max_subpopulation=int(1e5), max_iter=1000,
                            random_state=1000).fit(singles, double)
    c1, c2 = fit.coef_
    with np.errstate(divide="ignore", invalid="ignore"):
        dominance = float(np.abs(np.log10(c1 / c2)))
    dcor_first = float(distance_correlation(first, double))
    dcor_second = float(distance_correlation(second, double))
    return {"c1": float(c1), "c2": float(c2), "magnitude": float(np.hypot(c1, c2)),
            "dominance": dominance,
            "corr_fit": pearson(fit.predict(singles), double),
            "dcor": float(distance_correlation(singles, double)),
            "dcor_singles": float(distance_correlation(first, second)),
            "dcor_first": dcor_first, "dcor_second": dcor_second,
            "eq_contr": (min(dcor_first, dcor_second) / max(dcor_first, dcor_second)
                         if max(dcor_first, dcor_second) > 0 else float("nan"))}
