"""One perturbation-response run: the prepared GEARS-layout data + its split → predicted mean
profiles of the validation and held-out perturbations (and of the singles of every held-out
double, for the interaction coefficients), ``predictions.h5ad`` + ``prediction.json``.

Every model sees the same inputs: the training perturbations' cells (controls included), the
split, the seed; GRAPE also the gene feature files and the biotype table.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.files import PathLike, write_text_atomic
from geneint.data.single_cell.gears_format import (
    CONDITION,
    CONDITION_NAME,
    CTRL,
    RANKING,
    condition_genes,
    condition_label,
    is_double,
    mean_profiles,
    read_response_data,
    write_predictions,
)
from geneint.data.single_cell.response_split import read_response_split
from geneint.models.response_baselines import BASELINES
from geneint.schema import config_choices

log = logging.getLogger(__name__)

RESPONSE_MODELS = config_choices("perturbation.response.models")


def prediction_targets(split: pd.DataFrame) -> list[str]:
    """Validation and held-out conditions, then the singles of the held-out doubles."""
    targets = list(split.loc[split["split"].isin(["val", "test"]), "condition"])
    doubles = split.loc[(split["split"] == "test") & split["condition"].map(is_double),
                        "condition"]
    singles = [condition_label([g]) for d in doubles for g in condition_genes(d)]
    return list(dict.fromkeys(targets + singles))


def grape_inputs(adata, split: pd.DataFrame, targets: list[str]):
    """(ResponseData, conditions in its row order)."""
    from geneint.train.grape import ResponseData

    genes = {g: i for i, g in enumerate(adata.var["gene_name"].astype(str))}
    labels = adata.obs[CONDITION].astype(str).to_numpy()
    train_conditions = list(split.loc[split["split"] == "train", "condition"])
    conditions = list(dict.fromkeys(train_conditions + targets))
    row_of = {c: k for k, c in enumerate(conditions)}
    training = np.isin(labels, train_conditions)
    X = np.asarray(adata.X, dtype=np.float32)
    val = list(split.loc[split["split"] == "val", "condition"])
    val_means = mean_profiles(adata, val) if val else pd.DataFrame(columns=adata.var_names)
    position = {gene_id: i for i, gene_id in enumerate(adata.var_names.astype(str))}
    name_of = dict(zip(labels, adata.obs[CONDITION_NAME].astype(str)))
    top = min(20, adata.n_vars)
    val_de = np.array([[position[g] for g in adata.uns[RANKING][name_of[c]][:top]]
                       for c in val], dtype=np.int64).reshape(len(val), top)
    data = ResponseData(
        expression=X[training], cell_condition=np.array([row_of[c] for c in labels[training]]),
        knocked_down=[[genes[g] for g in condition_genes(c)] for c in conditions],
        control=X[labels == CTRL].mean(0), val_conditions=np.array([row_of[c] for c in val],
                                                                   dtype=np.int64),
        val_means=val_means.to_numpy(np.float32), val_de=val_de)
    return data, conditions


def predict_response(model: str, data_path: PathLike, split_path: PathLike, seed: int,
                     settings: dict[str, Any], features: dict[str, PathLike | None],
                     biotypes: PathLike | None, out: PathLike) -> dict:
    """``settings``: the ``perturbation.response`` section (``grape``)."""
    if model not in RESPONSE_MODELS:
        raise ValueError(f"unknown response model {model!r}; choose from {RESPONSE_MODELS}")
    adata = read_response_data(data_path)
    split = read_response_split(split_path, adata.obs[CONDITION])
    targets = prediction_targets(split)
    started = time.perf_counter()
    summary: dict[str, Any] = {"model": model, "seed": seed, "genes": adata.n_vars,
                               "train_perturbations": int((split["split"] == "train").sum() - 1),
                               "predicted": len(targets)}
    if model in BASELINES:
        train = mean_profiles(adata, list(split.loc[split["split"] == "train", "condition"]))
        profiles = pd.DataFrame(BASELINES[model](train.to_numpy(), list(train.index), targets),
                                index=pd.Index(targets), columns=adata.var_names)
    else:
        # torch and Lightning only here: the baselines' jobs start in a second.
        from geneint.data.single_cell.gene_features import gene_views, read_biotypes
        from geneint.train.grape import GrapeSettings, predict_profiles, train_grape

        grape = GrapeSettings.from_mapping(settings["grape"])
        gene_names = list(adata.var["gene_name"].astype(str))
        views = gene_views(features, gene_names, grape.fallback)
        coding = read_biotypes(biotypes, gene_names)
        data, conditions = grape_inputs(adata, split, targets)
        module, training = train_grape(data, views, coding, grape, seed,
                                       Path(out).parent / "training")
        row_of = {c: k for k, c in enumerate(conditions)}
        predicted = predict_profiles(module, [data.knocked_down[row_of[t]] for t in targets])
        profiles = pd.DataFrame(predicted, index=pd.Index(targets), columns=adata.var_names)
        summary.update(training, views=len(views), noncoding_genes=int((~coding).sum()),
                       perturbation=grape.perturbation)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    write_predictions(profiles, split, adata.var, out, summary)
    write_text_atomic(Path(out).with_name("prediction.json"),
                      json.dumps(summary, indent=2, default=float) + "\n")
    return summary
