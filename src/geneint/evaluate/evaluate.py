"""Evaluate a model from its ``predictions.parquet`` and the split file alone: ``metrics.json``.

Every model writes the same predictions table (:mod:`geneint.train.predictions`), so this never
loads a model. ``metrics.json`` holds one block per role (``test``, ``val``, ``train``) with every
metric of :func:`~geneint.evaluate.metrics.regression_metrics` (``oracle_pearson`` when the
data carry noise-free τ), and, when pairs and triples are both evaluated, ``by_arity`` with the
same blocks per set size. An undefined metric (the Pearson of a constant prediction) is
``null``, never 0. Beside it, ``predictions.tsv`` is the predictions table to read by eye: each
gene's systematic name with its standard name (from ``SGD_features.tab``, when given).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from geneint.data.files import InputFormatError, PathLike, write_text_atomic
from geneint.data.genes import read_sgd_features
from geneint.data.interaction_classes import InteractionClasses
from geneint.data.splits import read_split
from geneint.evaluate.metrics import (
    DEFAULT_STRONG_THRESHOLD,
    classification_metrics,
    regression_metrics,
)
from geneint.train.predictions import read_predictions

log = logging.getLogger(__name__)


def metrics_for(predictions: pd.DataFrame, strong_threshold: float,
                by_arity: dict[int, float] | None = None,
                classes: InteractionClasses | None = None) -> dict[str, Any]:
    """Metrics of a set of predictions; ``by_arity`` gives some arities their own strong
    threshold (the others use ``strong_threshold``). With ``classes``, also the classification
    metrics (:func:`classification_block`)."""
    noise_free = (torch.as_tensor(predictions["tau_noise_free"].to_numpy())
                  if "tau_noise_free" in predictions else None)
    arities = predictions["arity"].astype(int)
    thresholds = arities.map(lambda a: (by_arity or {}).get(a, strong_threshold))
    threshold: float | torch.Tensor = (float(thresholds.iloc[0]) if thresholds.nunique() == 1
                                       else torch.tensor(thresholds.to_numpy(float)))
    out: dict[str, Any] = regression_metrics(
        torch.as_tensor(predictions["tau_pred"].to_numpy()),
        torch.as_tensor(predictions["tau"].to_numpy()),
        strong_threshold=threshold, noise_free=noise_free)
    if classes is not None:
        out.update(classification_block(predictions, classes))
    return out


def probability_columns(classes: InteractionClasses) -> list[str]:
    """The columns a classifier writes beside ``tau_pred``: one probability per class."""
    return [f"prob_{name}" for name in classes.names]


def classification_block(predictions: pd.DataFrame,
                         classes: InteractionClasses) -> dict[str, Any]:
    """Every model as a classifier of the interaction classes: a classifier from its
    probabilities (``prob_<class>`` columns; predicted class = the most probable), a regression
    model from its τ̂ binned with the same edges (ranking scores:
    :meth:`InteractionClasses.scores`)."""
    arity = torch.as_tensor(predictions["arity"].to_numpy(np.int64))
    labels = classes.labels(torch.as_tensor(predictions["tau"].to_numpy()), arity)
    columns = probability_columns(classes)
    if all(c in predictions for c in columns):
        scores = torch.as_tensor(predictions[columns].to_numpy(np.float64))
        predicted = scores.argmax(-1)
    else:
        tau_pred = torch.as_tensor(predictions["tau_pred"].to_numpy())
        scores, predicted = classes.scores(tau_pred, arity), classes.labels(tau_pred, arity)
    return classification_metrics(labels, predicted, scores, classes.names)


def check_against_split(predictions: pd.DataFrame, roles: dict[str, np.ndarray],
                        path: PathLike) -> None:
    """Every set of every predicted role is predicted, and nothing else."""
    for role in sorted(set(predictions["role"])):
        predicted = np.sort(predictions.loc[predictions["role"] == role, "set_id"].to_numpy())
        expected = roles.get(role, np.array([], dtype=np.int64))
        if not np.array_equal(predicted, expected):
            missing = np.setdiff1d(expected, predicted)
            extra = np.setdiff1d(predicted, expected)
            raise InputFormatError(path, 0, f"{role} predictions do not match the split: "
                                            f"{len(missing)} sets missing (e.g. "
                                            f"{missing[:3].tolist()}), {len(extra)} not in the "
                                            f"split's {role} sets (e.g. {extra[:3].tolist()})")
    for role in ("val", "test"):
        if role not in set(predictions["role"]):
            raise InputFormatError(path, 0, f"no {role} predictions")


def _training_record(summary_path: Path) -> dict[str, Any]:
    """What metrics.json repeats from the model's training summary, when there is one: the
    model and, for DANGO, its variant and the variant's own training settings (the original
    code's quirks), so a metrics file says what produced it."""
    if not summary_path.exists():
        return {}
    summary = json.loads(summary_path.read_text())
    keep = ("model", "variant_training", "variant_overrode")
    record = {key: summary[key] for key in keep if key in summary}
    if "architecture" in summary:
        record["variant"] = summary["architecture"].get("variant")
    return record


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def evaluate_predictions(predictions_path: PathLike, split: PathLike, fold: int,
                         out: PathLike, strong_threshold: float = DEFAULT_STRONG_THRESHOLD,
                         strong_threshold_by_arity: dict[int, float] | None = None,
                         table: PathLike | None = None, names: dict[str, str] | None = None,
                         class_edges: list[float] | None = None) -> dict[str, Any]:
    """Write ``metrics.json`` (``out``) for one model's predictions of one split fold.
    ``strong_threshold_by_arity`` gives some arities their own strong threshold; the
    interaction classes are the strong cut-offs unless ``class_edges`` are given
    (:class:`InteractionClasses`); ``table`` also writes ``predictions.tsv`` there, with
    standard gene ``names``."""
    by_arity = {int(a): float(t) for a, t in (strong_threshold_by_arity or {}).items()}
    classes = InteractionClasses.from_config(strong_threshold, by_arity, class_edges)
    predictions = read_predictions(predictions_path)
    check_against_split(predictions, read_split(split, fold), predictions_path)
    if table is not None:
        write_prediction_table(predictions, table, names or {})
    roles = [r for r in ("test", "val", "train") if r in set(predictions["role"])]
    metrics: dict[str, Any] = {
        role: metrics_for(predictions[predictions["role"] == role], strong_threshold, by_arity,
                          classes)
        for role in roles
    }
    # The confusion matrices sit apart from the per-role numbers the summary tables read.
    metrics["classes"] = classes.to_json()
    metrics["confusion"] = {role: metrics[role].pop("confusion", None) for role in roles}
    arities = sorted(int(a) for a in predictions["arity"].unique())
    if len(arities) > 1:
        metrics["by_arity"] = {
            role: {str(a): metrics_for(group, strong_threshold, by_arity, classes)
                   for a, group in predictions[predictions["role"] == role].groupby("arity")}
            for role in roles
        }
        for blocks in metrics["by_arity"].values():
            for block in blocks.values():
                block.pop("confusion", None)
    metrics["predictions"] = str(predictions_path)
    metrics.update(_training_record(Path(predictions_path).parent / "train_summary.json"))
    write_text_atomic(Path(out), json.dumps(_json_safe(metrics), indent=2) + "\n")
    test = metrics["test"]
    log.info("test: Pearson %s Spearman %s MSE %.5f AUROC %s macro F1 %s (n %d; oracle %s)",
             _fmt(test["pearson"]), _fmt(test["spearman"]), test["mse"], _fmt(test["auroc"]),
             _fmt(test.get("macro_f1")), test["n"], _fmt(test.get("oracle_pearson")))
    return metrics


def gene_names(sgd_features: PathLike | None) -> dict[str, str]:
    """Systematic → standard gene name of every ORF with one (empty without a file)."""
    if sgd_features is None:
        return {}
    table = read_sgd_features(sgd_features)
    return {gene: name for gene, name in zip(table["gene"], table["standard_name"]) if name}


def write_prediction_table(predictions: pd.DataFrame, out: PathLike,
                           names: dict[str, str]) -> pd.DataFrame:
    """``predictions.tsv``: the predictions with standard names beside the systematic ones.

    Columns: ``role``, ``set_id``, ``arity``, ``genes`` (systematic, ``+``-joined),
    ``names`` (standard names, the systematic one where a gene has none), ``tau``, ``tau_pred``
    (and ``tau_noise_free`` on synthetic data); test rows first, then validation, then train."""
    columns = [c for c in ("gene_a", "gene_b", "gene_c") if c in predictions]
    genes = predictions[columns].fillna("").to_numpy()
    table = pd.DataFrame({
        "role": predictions["role"], "set_id": predictions["set_id"],
        "arity": predictions["arity"],
        "genes": ["+".join(g for g in row if g) for row in genes],
        "names": ["+".join(names.get(g, g) for g in row if g) for row in genes],
        "tau": predictions["tau"], "tau_pred": predictions["tau_pred"],
    })
    if "tau_noise_free" in predictions:
        table["tau_noise_free"] = predictions["tau_noise_free"]
    order = {"test": 0, "val": 1, "train": 2}
    table = table.sort_values(["role", "set_id"], key=lambda c: c.map(order) if c.name == "role"
                              else c, kind="stable")
    write_text_atomic(Path(out), table.to_csv(sep="\t", index=False, float_format="%.6g"))
    return table


def _fmt(value: float | None) -> str:
    return "undefined" if value is None or math.isnan(value) else f"{value:.4f}"

