"""A response model's ``metrics.json``: GEARS' metrics of every held-out perturbation
(``per_perturbation.tsv``; the top-20 DE genes' observed and predicted deltas in
``de_deltas.tsv``), their means and standard deviations over all held-out
perturbations and per subgroup (unseen_single, combo_seen0/1/2), and the genetic-interaction
coefficients of the held-out doubles, observed against predicted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, write_text_atomic
from geneint.data.single_cell.gears_format import (
    CONDITION,
    CONDITION_NAME,
    CTRL,
    RANKING,
    condition_genes,
    condition_label,
    is_double,
    mean_profiles,
    read_predictions,
    read_response_data,
)
from geneint.data.single_cell.response_split import read_response_split
from geneint.evaluate.response import interaction_coefficients, perturbation_metrics

log = logging.getLogger(__name__)

#: The columns of the summary and the plots, GEARS' and GRAPE's headline metrics.
HEADLINE = ("pearson_delta", "pearson_delta_de20", "mse_de20", "mse", "rmse", "dac",
            "frac_correct_direction_20", "pearson_delta_de40", "mse_de40")
GI_KEYS = ("magnitude", "dominance", "corr_fit", "c1", "c2")


def single_conditions(double: str) -> list[str]:
    return [condition_label([gene]) for gene in condition_genes(double)]


def interaction_row(condition: str, truth: pd.DataFrame, predicted: pd.DataFrame,
                    control: np.ndarray) -> dict | None:
    singles = single_conditions(condition)
    if not all(s in truth.index for s in singles) or not all(s in predicted.index
                                                             for s in singles):
        return None
    row = {}
    for source, table in (("true", truth), ("pred", predicted)):
        first, second = (table.loc[s].to_numpy(np.float64) - control for s in singles)
        coefficients = interaction_coefficients(
            first, second, table.loc[condition].to_numpy(np.float64) - control)
        row.update({f"gi_{key}_{source}": coefficients[key] for key in GI_KEYS})
    return row


def summarise(per_perturbation: pd.DataFrame) -> dict:
    numeric = per_perturbation.drop(columns=["condition", "subgroup"])
    summary = {"overall": numeric.mean().to_dict(), "overall_std": numeric.std(ddof=0).to_dict(),
               "by_subgroup": {group: rows.drop(columns=["condition", "subgroup"]).mean()
                               .to_dict()
                               for group, rows in per_perturbation.groupby("subgroup")},
               "perturbations": per_perturbation.groupby("subgroup").size().to_dict()}
    if "gi_magnitude_true" in per_perturbation:
        doubles = per_perturbation.dropna(subset=["gi_magnitude_true", "gi_magnitude_pred"])
        summary["interactions"] = {
            "doubles": len(doubles),
            "magnitude_abs_error": float((doubles["gi_magnitude_pred"]
                                          - doubles["gi_magnitude_true"]).abs().mean()),
        }
    return summary


def evaluate_response(predictions_path: PathLike, data_path: PathLike, split_path: PathLike,
                      out: PathLike) -> dict:
    data = read_response_data(data_path)
    conditions = data.obs[CONDITION]
    split = read_response_split(split_path, conditions)
    predicted = read_predictions(predictions_path, data.var_names)
    held_out = split[split["split"] == "test"]
    missing = sorted(set(held_out["condition"]) - set(predicted.index))
    if missing:
        raise InputFormatError(predictions_path, 0, f"no prediction for {len(missing)} held-out"
                               f" perturbations, e.g. {missing[:3]}")
    truth = mean_profiles(data)
    control = truth.loc[CTRL].to_numpy(np.float64)
    position = {gene_id: i for i, gene_id in enumerate(data.var_names.astype(str))}
    name_of = dict(zip(conditions, data.obs[CONDITION_NAME].astype(str)))

    rows, de_rows = [], []
    gene_names = data.var["gene_name"].astype(str).to_numpy()
    for condition, subgroup in zip(held_out["condition"], held_out["subgroup"]):
        name = name_of[condition]
        de_ranked = np.array([position[g] for g in data.uns[RANKING][name]])
        non_dropout = np.array([position[g] for g in data.uns["top_non_dropout_de_20"][name]],
                               dtype=np.int64)
        row = {"condition": condition, "subgroup": subgroup,
               **perturbation_metrics(predicted.loc[condition].to_numpy(),
                                      truth.loc[condition].to_numpy(), control, de_ranked,
                                      non_dropout)}
        if is_double(condition):
            row.update(interaction_row(condition, truth, predicted, control) or {})
        rows.append(row)
        top = de_ranked[:20]
        de_rows.append(pd.DataFrame({
            "condition": condition, "subgroup": subgroup, "gene": gene_names[top],
            "de_rank": np.arange(1, len(top) + 1),
            "true_delta": truth.loc[condition].to_numpy()[top] - control[top],
            "predicted_delta": predicted.loc[condition].to_numpy()[top] - control[top]}))
    per_perturbation = pd.DataFrame(rows)
    metrics = {"held_out": len(rows), **summarise(per_perturbation)}
    info = Path(predictions_path).with_name("prediction.json")
    if info.exists():
        metrics["prediction"] = json.loads(info.read_text())
    write_text_atomic(out, json.dumps(metrics, indent=2, default=float) + "\n")
    write_text_atomic(Path(out).with_name("per_perturbation.tsv"),
                      per_perturbation.to_csv(sep="\t", index=False))
    write_text_atomic(Path(out).with_name("de_deltas.tsv"),
                      pd.concat(de_rows).to_csv(sep="\t", index=False))
    return metrics
