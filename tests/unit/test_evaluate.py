"""`evaluate` on hand-made predictions: per-role and per-arity metrics, and a strong threshold
per arity (pairs' ε and triples' τ are different quantities)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from geneint.data.splits import make_split, write_split
from geneint.evaluate.evaluate import (
    evaluate_predictions,
    gene_names,
    write_prediction_table,
)
from geneint.train.predictions import read_predictions, write_predictions


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


def test_the_prediction_table_names_genes_and_lists_test_sets_first(tmp_path):
    frame = _mixed(tmp_path)
    table = write_prediction_table(read_predictions(tmp_path / "predictions.parquet"),
                                   tmp_path / "p.tsv", {"A000": "RAD51", "B000": "RAD52"})
    written = pd.read_csv(tmp_path / "p.tsv", sep="\t", keep_default_na=False)
    assert len(written) == len(frame) == len(table)
    assert list(dict.fromkeys(written["role"])) == ["test", "val", "train"]
    by_set = written.set_index("set_id")
    # Set 0 is a pair: standard names where SGD has them; set 1 a triple without any.
    assert (by_set.loc[0, "genes"], by_set.loc[0, "names"]) == ("A000+B000", "RAD51+RAD52")
    assert (by_set.loc[1, "genes"], by_set.loc[1, "names"]) == ("A001+B001+C001",) * 2
    assert np.allclose(by_set.loc[frame["set_id"], "tau_pred"], frame["tau_pred"], atol=1e-5)


def test_gene_names_come_from_sgd_features(tmp_path):
    from geneint.data.genes import write_sgd_features

    features = pd.DataFrame({"gene": ["YER095W", "YAL001C"], "standard_name": ["RAD51", ""],
                             "qualifier": ["Verified"] * 2, "chromosome": [5, 1],
                             "start": [1, 1], "stop": [9, 9], "strand": ["W", "C"],
                             "description": ["", ""]})
    write_sgd_features(features, tmp_path / "SGD_features.tab")
    assert gene_names(tmp_path / "SGD_features.tab") == {"YER095W": "RAD51"}
    assert gene_names(None) == {}
