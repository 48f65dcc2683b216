"""`evaluate` on hand-made predictions: per-role and per-arity metrics, and a strong threshold
per arity (pairs' ε and triples' τ are different quantities)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from geneint.data.splits import make_split, write_split
from geneint.evaluate.evaluate import evaluate_predictions
from geneint.train.predictions import write_predictions


def _mixed(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    arity = np.where(np.arange(n) % 2 == 0, 2, 3)
    interactions = pd.DataFrame({
        "gene_a": [f"A{i:03d}" for i in range(n)], "gene_b": [f"B{i:03d}" for i in range(n)],
        "gene_c": [f"C{i:03d}" if a == 3 else "" for i, a in enumerate(arity)],
        "arity": arity, "tau": rng.normal(0, 0.1, n)})
    split, summary = make_split(interactions, "random", seed=0, folds=2, arities=(2, 3))
    write_split(split, summary, tmp_path / "split.parquet")
    roles = split[split["fold"] == 0].set_index("set_id")["role"]
    roles = roles[roles != "excluded"]
    frame = interactions.loc[roles.index].assign(
        set_id=roles.index, role=roles.to_numpy(),
        tau_pred=lambda f: f["tau"] + rng.normal(0, 0.05, len(f)))
    write_predictions(frame, tmp_path / "predictions.parquet")
    return frame


def test_each_arity_can_have_its_own_strong_threshold(tmp_path):
    frame = _mixed(tmp_path)
    metrics = evaluate_predictions(tmp_path / "predictions.parquet", tmp_path / "split.parquet",
                                   0, tmp_path / "metrics.json", strong_threshold=0.05,
                                   strong_threshold_by_arity={2: 0.15})
    test = frame[frame["role"] == "test"]
    pairs, triples = test[test["arity"] == 2], test[test["arity"] == 3]
    by_arity = metrics["by_arity"]["test"]
    assert by_arity["2"]["n_strong"] == int((pairs["tau"].abs() > 0.15).sum())
    assert by_arity["3"]["n_strong"] == int((triples["tau"].abs() > 0.05).sum())
    assert by_arity["2"]["strong_threshold"] == 0.15
    assert by_arity["3"]["strong_threshold"] == 0.05
    # All arities together: each set against its own arity's threshold.
    assert metrics["test"]["n_strong"] == by_arity["2"]["n_strong"] + by_arity["3"]["n_strong"]
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["test"]["strong_threshold"] is None  # mixed thresholds: not one number
