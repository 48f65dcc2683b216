"""The perturbation study's summary: one row per network, medians per model × regime, and the
plots, also when the statistical evaluation is undefined (observational data)."""

from __future__ import annotations

import json

import pandas as pd

from geneint.report.perturbation import aggregate_networks, regime_order


def _metrics(path, model, regime, seed, precision, skipped=False):
    statistical = ({"skipped": "no knocked-down test cells"} if skipped else
                   {"precision": precision, "mean_wasserstein": 2 * precision,
                    "false_omission_rate": 0.1, "true_positives": 1, "false_positives": 1,
                    "untestable": 0, "negative_mean_wasserstein": 0.2})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "edges": 2, "inference": {"model": model, "regime": regime, "seed": seed, "cells": 10,
                                  "seconds": 1.0},
        "statistical": statistical,
        "biological": {"ground_truth": "true_graph", "precision_directed": precision,
                       "precision_undirected": precision, "recall_directed": 0.5,
                       "known_edges": 4}}))
    return path


def test_summary_medians_and_plots(tmp_path):
    paths = [_metrics(tmp_path / f"{m}/{r}/seed{s}/metrics.json", m, r, s, p)
             for m, r, s, p in [("catran", "interventional", 0, 0.2),
                                ("catran", "interventional", 1, 0.6),
                                ("catran", "interventional", 2, 0.4),
                                ("random", "partial0.5", 0, 0.1),
                                ("random", "observational", 0, 0.0)]]
    summary = aggregate_networks(paths, tmp_path / "out")
    assert len(summary) == 5
    by_model = pd.read_csv(tmp_path / "out" / "summary_by_model.tsv", sep="\t")
    catran = by_model[by_model["model"] == "catran"].iloc[0]
    assert catran["seeds"] == 3 and catran["precision"] == 0.4
    assert catran["mean_wasserstein"] == 0.8
    for plot in ("network_metrics.png", "wasserstein_for.png"):
        assert (tmp_path / "out" / "plots" / plot).stat().st_size > 5_000
    assert regime_order(["interventional", "partial0.5", "observational", "partial0.25"]) == [
        "observational", "partial0.25", "partial0.5", "interventional"]


def test_undefined_statistics_stay_empty(tmp_path):
    paths = [_metrics(tmp_path / f"{m}/metrics.json", m, "observational", 0, 0.3, skipped=True)
             for m in ("catran", "random")]
    summary = aggregate_networks(paths, tmp_path / "out")
    assert summary["precision"].isna().all() and summary["false_omission_rate"].isna().all()
    assert (summary["precision_directed"] == 0.3).all()
    assert (tmp_path / "out" / "plots" / "network_metrics.png").exists()
