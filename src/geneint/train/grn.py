"""One network-inference run: the training cells of a regime → a ranked directed edge list.

Every model gets the same inputs (the regime's training cells, their knock-downs, the gene
names, the seed) and returns edges of the same size, directed the same way
(``perturbation.orientation``), so a CaTran number always has its floors beside it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.files import write_text_atomic
from geneint.data.single_cell.anndata_io import CONTROL, INTERVENTION
from geneint.data.single_cell.preprocess import regime_cells
from geneint.models.grn_baselines import correlation_scores, random_network
from geneint.models.network_edges import (
    RankedEdges,
    catran_scores,
    knockdown_effects,
    select_edges,
)
from geneint.schema import config_choices

log = logging.getLogger(__name__)

GRN_MODELS = config_choices("perturbation.models")


def knockdown_index(labels: np.ndarray, genes: list[str]) -> np.ndarray:
    """Per cell: the knocked-down gene's column, −1 for a control, −2 for anything else."""
    position = {g: i for i, g in enumerate(genes)}
    return np.array([position.get(label, -1 if label == CONTROL else -2) for label in labels],
                    dtype=np.int64)


def training_cells(cells, roles: np.ndarray, regime: str, seed: int):
    """The cells a model trains on: the training split, restricted by the regime."""
    train = cells[roles == "train"]
    return train[regime_cells(train.obs[INTERVENTION].to_numpy(), regime, seed)]


def infer_network(model: str, cells, n_edges: int, orientation: str, seed: int,
                  settings: dict[str, Any], out_dir: Path) -> tuple[RankedEdges, dict]:
    """``settings``: the ``perturbation`` config section (``catran``, ``correlation``)."""
    if model not in GRN_MODELS:
        raise ValueError(f"unknown network model {model!r}; choose from {GRN_MODELS}")
    genes = list(cells.var_names)
    labels = cells.obs[INTERVENTION].astype(str).to_numpy()
    expression = np.asarray(cells.X, dtype=np.float32)
    knocked_down = knockdown_index(labels, genes)
    # Every model's network has the same size: at most one edge per gene pair (two with
    # orientation both), which a symmetric score can give.
    possible = len(genes) * (len(genes) - 1) // (1 if orientation == "both" else 2)
    if n_edges > possible:
        log.warning("%d edges asked of %d genes: %d, one per gene pair", n_edges, len(genes),
                    possible)
        n_edges = possible
    started = time.perf_counter()
    if model == "random":
        edges = random_network(len(genes), n_edges, seed)
    else:
        effects = knockdown_effects(expression, knocked_down)
        if model == "correlation":
            scores = correlation_scores(expression, settings["correlation"]["method"])
            edges = select_edges(scores, n_edges, orientation, effects)
        else:
            # Lightning is imported only here: the baselines' jobs start in a second.
            from geneint.train.catran import CaTranSettings, train_catran

            network = train_catran(expression, knocked_down, labels,
                                   CaTranSettings.from_mapping(settings["catran"]), seed,
                                   out_dir)
            adjacency = network.adjacency()
            edges = select_edges(catran_scores(adjacency), n_edges, orientation, effects,
                                 asymmetry=adjacency)
    summary = {"model": model, "cells": int(len(labels)), "genes": len(genes),
               "controls": int((knocked_down == -1).sum()),
               "knocked_down_genes": int(len(np.unique(knocked_down[knocked_down >= 0]))),
               "edges": len(edges), "orientation": orientation, "seed": seed,
               "seconds": round(time.perf_counter() - started, 3)}
    return edges, summary


def edge_table(edges: RankedEdges, genes: list[str]) -> pd.DataFrame:
    names = np.asarray(genes, dtype=object)
    return pd.DataFrame({"source": names[edges.sources], "target": names[edges.targets],
                         "score": edges.scores, "rank": np.arange(1, len(edges) + 1)})


def write_network(edges: RankedEdges, genes: list[str], summary: dict, path: Path) -> None:
    """``edges.tsv`` (source, target, score, rank) and ``inference.json`` beside it."""
    write_text_atomic(path, edge_table(edges, genes).to_csv(sep="\t", index=False))
    write_text_atomic(Path(path).with_name("inference.json"),
                      json.dumps(summary, indent=2) + "\n")
