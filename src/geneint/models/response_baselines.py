"""The floors every perturbation-response model is shown beside (GEARS issue #82: a
training-mean baseline matches GEARS on Norman):

- ``control``: no change, the mean control profile;
- ``mean``: the mean of the training perturbations' mean profiles (each perturbation weighs
  the same), whatever the perturbation;
- ``additive``: the control plus the sum of the knocked-down genes' single-perturbation
  deltas measured in training (a gene without a training single adds nothing, so on held-out
  singles it equals ``control``; on doubles of two seen genes it is the classic additive model).
"""

from __future__ import annotations

import numpy as np

from geneint.data.single_cell.gears_format import CTRL, condition_genes, condition_label


def control_baseline(means: np.ndarray, conditions: list[str], targets: list[str]
                     ) -> np.ndarray:
    """``means``: mean profiles of the training ``conditions`` (rows), ``ctrl`` among them →
    one profile per target (rows)."""
    return np.repeat(means[[conditions.index(CTRL)]], len(targets), axis=0)


def mean_baseline(means: np.ndarray, conditions: list[str], targets: list[str]) -> np.ndarray:
    perturbed = [k for k, c in enumerate(conditions) if c != CTRL]
    return np.repeat(means[perturbed].mean(0, keepdims=True), len(targets), axis=0)


def additive_baseline(means: np.ndarray, conditions: list[str], targets: list[str]
                      ) -> np.ndarray:
    row = {c: k for k, c in enumerate(conditions)}
    control = means[row[CTRL]]
    profiles = np.repeat(control[None], len(targets), axis=0)
    for t, target in enumerate(targets):
        for gene in condition_genes(target):
            single = condition_label([gene])
            if single in row:
                profiles[t] += means[row[single]] - control
    return profiles


BASELINES = {"control": control_baseline, "mean": mean_baseline, "additive": additive_baseline}
