"""Metrics over a whole evaluation set (never an average of per-batch or per-rank values).

DANGO reports six numbers per split: Pearson and Spearman over all test sets, the same two over
the strong interactions only (|τ| > threshold; DANGO: −τ ≥ 0.05 on data whose τ ≤ 0), and
AUROC/AUPRC of strong vs the rest. The original draws a class-balanced, unseeded subsample for
the AUCs; we use every set (so AUPRC's chance level is the prevalence, reported as
``strong_fraction``). The classifier score is the predicted magnitude |τ̂|.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torchmetrics.functional import (
    mean_squared_error,
    pearson_corrcoef,
    spearman_corrcoef,
)
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_average_precision,
)

DEFAULT_STRONG_THRESHOLD = 0.05


def is_constant(values: Tensor) -> bool:
    """Exactly one distinct value (a std test would miss it: rounding leaves ~1e-18)."""
    return values.numel() == 0 or bool(values.max() == values.min())


def _corr(fn, pred: Tensor, target: Tensor) -> float:
    """A correlation, or NaN where it is undefined (fewer than 3 values, or a constant)."""
    if pred.numel() < 3 or is_constant(pred) or is_constant(target):
        return math.nan
    return float(fn(pred, target))


def regression_metrics(pred: Tensor, target: Tensor,
                       strong_threshold: float | Tensor = DEFAULT_STRONG_THRESHOLD,
                       noise_free: Tensor | None = None) -> dict[str, float]:
    """All metrics for one evaluation set.

    Args:
        pred, target: (n,) predicted and measured τ, on the published scale.
        strong_threshold: |τ| above which an interaction counts as strong; a tensor gives
            each set its own (pairs and triples mixed). Reported only when it is one number.
        noise_free: (n,) noise-free τ when known (synthetic data): adds ``oracle_pearson``, the
            Pearson of measured vs noise-free τ — the best any model can expect.
    """
    pred = pred.detach().double().flatten()
    target = target.detach().double().flatten()
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    if isinstance(strong_threshold, Tensor):
        strong = target.abs() > strong_threshold.detach().double().flatten()
        strong_threshold = math.nan
    else:
        strong = target.abs() > strong_threshold
    out = {
        "n": int(target.numel()),
        "pearson": _corr(pearson_corrcoef, pred, target),
        "spearman": _corr(spearman_corrcoef, pred, target),
        "mse": float(mean_squared_error(pred, target)) if target.numel() else math.nan,
        "n_strong": int(strong.sum()),
        "strong_fraction": float(strong.double().mean()) if target.numel() else math.nan,
        "strong_threshold": strong_threshold,
    }
    if strong.sum() >= 3:
        out.update(pearson_strong=_corr(pearson_corrcoef, pred[strong], target[strong]),
                   spearman_strong=_corr(spearman_corrcoef, pred[strong], target[strong]),
                   mse_strong=float(mean_squared_error(pred[strong], target[strong])))
    else:
        out.update(pearson_strong=math.nan, spearman_strong=math.nan, mse_strong=math.nan)
    if 0 < int(strong.sum()) < target.numel():
        labels = strong.long()
        # Both AUCs depend only on the order of |τ̂|; pass its dense rank scaled into [0, 1],
        # since torchmetrics applies a sigmoid to scores outside [0, 1], which ties large ones.
        _, rank = torch.unique(pred.abs(), return_inverse=True)
        score = rank.double() / max(int(rank.max()), 1)
        out["auroc"] = float(binary_auroc(score, labels))
        out["auprc"] = float(binary_average_precision(score, labels))
    else:
        out["auroc"] = out["auprc"] = math.nan
    if noise_free is not None:
        noise_free = noise_free.detach().double().flatten()
        out["oracle_pearson"] = _corr(pearson_corrcoef, target, noise_free)
        out["oracle_spearman"] = _corr(spearman_corrcoef, target, noise_free)
        out["pearson_vs_noise_free"] = _corr(pearson_corrcoef, pred, noise_free)
    return out


def pearson(pred: Tensor, target: Tensor) -> float:
    """Pearson over a whole set (NaN when undefined), for model selection."""
    return _corr(pearson_corrcoef, pred.detach().double().flatten(),
                 target.detach().double().flatten())


def to_tensor(values) -> Tensor:
    return torch.as_tensor(values, dtype=torch.float64)


def classification_metrics(labels: Tensor, predicted: Tensor, scores: Tensor,
                           names: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Metrics of a model as a classifier of interaction classes
    (:class:`~geneint.data.interaction_classes.InteractionClasses`).

    Args:
        labels: (n,) true class of each set.
        predicted: (n,) predicted class (a classifier's argmax, or the class of a regression
            model's τ̂).
        scores: (n, C) per-class scores: a classifier's probabilities, or the ranking scores
            of τ̂ (:meth:`InteractionClasses.scores`).
        names: class names, for the per-class keys.

    Returns ``accuracy``, ``macro_f1``, ``balanced_accuracy`` (macro recall), per class
    ``fraction_<c>`` (prevalence; AUPRC's chance level), ``f1_<c>``, ``auroc_<c>`` and
    ``auprc_<c>`` (one-vs-rest, NaN for a class absent from the set or present everywhere),
    their means over the classes where defined (``macro_auroc``, ``macro_auprc``), and the
    confusion matrix (``confusion``: rows true, columns predicted) as a nested list.
    """
    from torchmetrics.functional.classification import (
        multiclass_accuracy,
        multiclass_confusion_matrix,
        multiclass_f1_score,
        multiclass_recall,
    )

    num_classes = len(names)
    labels, predicted = labels.long().flatten(), predicted.long().flatten()
    if labels.numel() == 0:
        return {}
    # Macro averages over the classes present in the true labels (an absent class has no
    # defined recall or F1); torchmetrics' "macro" would count it as 0.
    present = torch.bincount(labels, minlength=num_classes) > 0
    f1 = multiclass_f1_score(predicted, labels, num_classes, average="none").double()
    recall = multiclass_recall(predicted, labels, num_classes, average="none").double()
    out: dict[str, Any] = {
        "accuracy": float(multiclass_accuracy(predicted, labels, num_classes, average="micro")),
        "macro_f1": float(f1[present].mean()),
        "balanced_accuracy": float(recall[present].mean()),
    }
    aurocs, auprcs = [], []
    for c, name in enumerate(names):
        positive = (labels == c).long()
        out[f"fraction_{name}"] = float(positive.double().mean())
        out[f"f1_{name}"] = float(f1[c]) if present[c] else math.nan
        auroc = auprc = math.nan
        if 0 < int(positive.sum()) < positive.numel():
            # Rank-scaled into [0, 1]: torchmetrics would squash other scores with a sigmoid.
            _, rank = torch.unique(scores[:, c].double(), return_inverse=True)
            score = rank.double() / max(int(rank.max()), 1)
            auroc = float(binary_auroc(score, positive))
            auprc = float(binary_average_precision(score, positive))
            aurocs.append(auroc)
            auprcs.append(auprc)
        out[f"auroc_{name}"], out[f"auprc_{name}"] = auroc, auprc
    out["macro_auroc"] = sum(aurocs) / len(aurocs) if aurocs else math.nan
    out["macro_auprc"] = sum(auprcs) / len(auprcs) if auprcs else math.nan
    out["confusion"] = multiclass_confusion_matrix(predicted, labels, num_classes).tolist()
    return out
