"""A predicted network's ``metrics.json``: CausalBench's statistical evaluation on the held-out
cells and the biological precision against the data set's known edges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.files import PathLike, require_columns, write_text_atomic
from geneint.data.single_cell.anndata_io import CONTROL, INTERVENTION, read_cells
from geneint.data.single_cell.ground_truth import ground_truth_kind, load_ground_truth
from geneint.data.single_cell.preprocess import read_split
from geneint.evaluate.causal import StatisticalEvaluator, biological_metrics


def read_edges(path: PathLike) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype={"source": str, "target": str})
    require_columns(frame, ["source", "target"], path)
    return frame


def evaluate_network(edges_path: PathLike, cells_path: PathLike, split_path: PathLike,
                     out: PathLike, settings: dict[str, Any], dataset: str,
                     true_graph: PathLike | None = None) -> dict:
    edges = read_edges(edges_path)
    cells = read_cells(cells_path)
    roles = read_split(split_path, cells.n_obs)
    test = cells[roles == "test"]
    labels = test.obs[INTERVENTION].astype(str)
    genes = list(cells.var_names)
    metrics: dict[str, Any] = {"edges": len(edges), "test_cells": int(test.n_obs)}
    inference = Path(edges_path).with_name("inference.json")
    if inference.exists():
        metrics["inference"] = json.loads(inference.read_text())
    if (labels != CONTROL).any() and (labels == CONTROL).any():
        evaluator = StatisticalEvaluator(np.asarray(test.X), labels, genes,
                                         settings["p_value"])
        statistical, scored = evaluator.evaluate(edges["source"], edges["target"],
                                                 settings["omission_samples"])
    else:
        # No knock-downs among the test cells (observational data such as krumsiek11).
        statistical, scored = {"skipped": "no knocked-down test cells"}, edges.copy()
    metrics["statistical"] = statistical
    kind = ground_truth_kind(settings["ground_truth"], dataset)
    truth = load_ground_truth(kind, true_graph)
    metrics["biological"] = ({"ground_truth": kind,
                              **biological_metrics(edges["source"], edges["target"], truth,
                                                   genes)}
                             if truth is not None else {"ground_truth": "none"})
    write_text_atomic(out, json.dumps(metrics, indent=2, default=float) + "\n")
    write_text_atomic(Path(out).with_name("scored_edges.tsv"),
                      scored.to_csv(sep="\t", index=False))
    return metrics
