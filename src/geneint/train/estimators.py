"""Fit a non-neural model (mean, ridge, random forest, xgboost) on the same split files as the
neural models, and write the same ``predictions.parquet``.

Each candidate of :func:`~geneint.models.baselines.candidate_estimators` is fitted on the
training sets; the one with the best validation Pearson is kept (the mean has one candidate and
an undefined Pearson). The test sets are predicted once, by the kept candidate.
``<out>/train_summary.json`` records the candidates' validation Pearson, the choice, the
features and the time taken.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from geneint.data.files import write_text_atomic
from geneint.graphs.network import NetworkGraph
from geneint.models.baselines import candidate_estimators, fit
from geneint.models.features import (
    NetworkPairs,
    embedding_set_features,
    membership_features,
    pair_network_features,
)
from geneint.train.embeddings import read_embeddings
from geneint.train.objectives import selection_pearson
from geneint.train.predictions import (
    PREDICTION_ROLES,
    predictions_frame,
    write_predictions,
)
from geneint.train.sets import SplitSets, TrainingInputs, load_graphs, load_split_sets

log = logging.getLogger(__name__)


def set_features(model: str, data: SplitSets, inputs: TrainingInputs,
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Feature matrix per role for a model, and a description for the summary."""
    sets = {role: data.sets[role] for role in PREDICTION_ROLES}
    arrays = {role: (s.genes.numpy(), s.mask.numpy()) for role, s in sets.items()}
    if model in ("mean", "additive"):
        features = {role: membership_features(g, m, len(data.gene_names))
                    for role, (g, m) in arrays.items()}
        described = {"kind": "gene membership (one-hot sum)", "genes": len(data.gene_names)}
    elif model == "rf_pair_features":
        graphs: list[NetworkGraph] = load_graphs(inputs.graphs, data.gene_names)
        networks = [NetworkPairs(g.edge_index.numpy(), g.weight.numpy(), g.num_nodes)
                    for g in graphs]
        features = {role: pair_network_features(g, m, networks)
                    for role, (g, m) in arrays.items()}
        described = {"kind": "pair network features", "networks": [g.name for g in graphs]}
    elif model in ("rf_embeddings", "xgboost"):
        named = [read_embeddings(p, data.gene_names) for p in inputs.pretrained]
        tables = [e.numpy() for _, e in sorted(named)]
        features = {role: embedding_set_features(g, m, tables)
                    for role, (g, m) in arrays.items()}
        described = {"kind": "pretrained embeddings: sum and product per network",
                     "networks": sorted(n for n, _ in named)}
    else:
        raise ValueError(f"no features for model {model!r}")
    described["columns"] = int(features["train"].shape[1])
    return features, described


def fit_estimator(model: str, inputs: TrainingInputs, settings: dict[str, Any],
                  threads: int = 1) -> dict[str, Any]:
    """Fit ``model`` on the split's training sets; write ``predictions.parquet`` and
    ``train_summary.json`` to ``inputs.out_dir``."""
    started = time.perf_counter()
    out_dir = Path(inputs.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(inputs.seed)
    data = load_split_sets(inputs.interactions, inputs.genes, inputs.split, inputs.fold,
                           shuffle_labels=inputs.shuffle_labels, seed=inputs.seed)
    features, described = set_features(model, data, inputs)
    y = {role: data.sets[role].tau.numpy().astype(np.float64) for role in PREDICTION_ROLES}
    tried = []
    best = None
    for params, estimator in candidate_estimators(model, settings, inputs.seed, threads):
        fit(estimator, features["train"], y["train"], features["val"], y["val"])
        val_pred = estimator.predict(features["val"])
        score = selection_pearson(torch.as_tensor(val_pred), torch.as_tensor(y["val"]))
        tried.append({**params, "val_pearson": None if math.isnan(score) else score})
        log.info("%s %s: validation Pearson %.4f", model, params, score)
        if best is None or (not math.isnan(score) and (math.isnan(best[0]) or score > best[0])):
            best = (score, params, estimator)
    _, chosen, estimator = best
    frames = [predictions_frame(data.frame, data.sets[role], role,
                                estimator.predict(features[role]))
              for role in PREDICTION_ROLES]
    write_predictions(pd.concat(frames, ignore_index=True), out_dir / "predictions.parquet")
    summary = {"model": model, "settings": settings, "chosen": chosen, "candidates": tried,
               "features": described, "seed": inputs.seed, "fold": inputs.fold,
               "shuffle_labels": inputs.shuffle_labels, "threads": threads,
               "sets": {r: len(s.tau) for r, s in data.sets.items()},
               "seconds": round(time.perf_counter() - started, 2)}
    if hasattr(estimator, "best_iteration"):
        summary["best_iteration"] = int(estimator.best_iteration)
    write_text_atomic(out_dir / "train_summary.json",
                      json.dumps(summary, indent=2, default=str) + "\n")
    log.info("%s: kept %s (%d features) in %.1f s", model, chosen, described["columns"],
             summary["seconds"])
    return summary
