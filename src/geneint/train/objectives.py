"""The interaction loss, the α schedules that weight an auxiliary loss against it, and the
Pearson that model selection (early stopping, ridge penalties) uses.

Joint loss (TorchCell's DANGO trainer, which the user's sweeps used):
``loss = α · reconstruction + (1 − α) · interaction``, with α set per epoch by a schedule:

- ``constant``: α fixed (DANGO's original code adds 0.001 × reconstruction: α ≈ 0.001).
- ``linear_until_uniform``: α falls linearly from 1 to 0.5 over ``alpha_epochs``, then stays 0.5.
- ``pre_then_post``: α = 1 (reconstruction only) for ``alpha_epochs`` epochs, then 0.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor
from torchmetrics.functional import pearson_corrcoef

ALPHA_SCHEDULES = ("constant", "linear_until_uniform", "pre_then_post")


def alpha_at(schedule: str, epoch: int, alpha: float = 0.001, alpha_epochs: int = 10) -> float:
    """α of the joint loss at a (0-based) epoch."""
    if schedule == "constant":
        return alpha
    if alpha_epochs < 1:
        raise ValueError(f"{schedule} needs alpha_epochs >= 1, got {alpha_epochs}")
    if schedule == "linear_until_uniform":
        return 1.0 - 0.5 * min(epoch, alpha_epochs) / alpha_epochs
    if schedule == "pre_then_post":
        return 1.0 if epoch < alpha_epochs else 0.0
    raise ValueError(f"unknown alpha schedule {schedule!r}; choose one of {ALPHA_SCHEDULES}")


def log_cosh(pred: Tensor, target: Tensor) -> Tensor:
    """Mean log(cosh(ŷ − y)) (docs/dango.md §5.1), in the overflow-free form
    x + softplus(−2x) − log 2."""
    x = pred - target
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean()


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error (DCell's loss)."""
    return F.mse_loss(pred, target)


#: Regression losses of set models, by config name.
SET_LOSSES = {"log_cosh": log_cosh, "mse": mse}
AUXILIARY_REDUCTIONS = ("mean", "sum")


def selection_pearson(pred: Tensor, target: Tensor) -> float:
    """Pearson over a whole set for model selection; NaN when undefined (constant input)."""
    pred, target = pred.detach().double().flatten(), target.detach().double().flatten()
    if (pred.numel() < 3 or bool(pred.max() == pred.min())
            or bool(target.max() == target.min())):
        return math.nan
    return float(pearson_corrcoef(pred, target))


def selection_macro_f1(predicted: Tensor, labels: Tensor, num_classes: int) -> float:
    """Macro F1 over a whole set for model selection: the mean F1 of the classes present in
    ``labels`` (an absent class has no defined F1); NaN for an empty set."""
    from torchmetrics.functional.classification import multiclass_f1_score

    labels, predicted = labels.long().flatten(), predicted.long().flatten()
    if labels.numel() == 0:
        return math.nan
    f1 = multiclass_f1_score(predicted, labels, num_classes, average="none").double()
    present = labels.bincount(minlength=num_classes) > 0
    return float(f1[present].mean())
