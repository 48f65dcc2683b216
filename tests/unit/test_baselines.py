"""Set features of the non-neural models, their estimators, and fitting them through the CLI on
the same split files and predictions contract as DANGO."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from demo_stages import evaluate, inputs_args, prepare, run

from geneint.models.baselines import candidate_estimators
from geneint.models.features import (
    NetworkPairs,
    embedding_set_features,
    membership_features,
    pair_network_features,
)

GENES = 8
# a path 0-1-2-3 and a triangle 4-5-6 (both directions listed)
EDGES = np.array([[0, 1], [1, 2], [2, 3], [4, 5], [5, 6], [4, 6]])
EDGE_INDEX = np.concatenate([EDGES, EDGES[:, ::-1]]).T
WEIGHT = np.concatenate([np.linspace(0.2, 0.9, 6)] * 2)


@pytest.fixture()
def network():
    return NetworkPairs(EDGE_INDEX, WEIGHT, GENES)


def test_pair_features_of_known_pairs(network):
    feats = network.features(np.array([0, 4, 0]), np.array([1, 5, 7]))
    np.testing.assert_allclose(feats[0], [0.2, 1, 2, 0])   # weight, degrees 1 and 2, no common
    np.testing.assert_allclose(feats[1], [WEIGHT[3], 2, 2, 1])  # triangle: one common neighbour
    np.testing.assert_allclose(feats[2], [0, 0, 1, 0])     # not an edge


def test_set_features_do_not_depend_on_gene_order(network):
    genes = np.array([[4, 5, 6], [0, 2, 3], [1, 7, 5]])
    mask = np.ones_like(genes, dtype=bool)
    tables = [np.random.default_rng(0).normal(size=(GENES, 3))]
    base_pairs = pair_network_features(genes, mask, [network, network])
    base_emb = embedding_set_features(genes, mask, tables)
    base_members = membership_features(genes, mask, GENES).toarray()
    for perm in ([2, 0, 1], [1, 2, 0], [0, 2, 1]):
        np.testing.assert_allclose(pair_network_features(genes[:, perm], mask, [network] * 2),
                                   base_pairs)
        np.testing.assert_allclose(embedding_set_features(genes[:, perm], mask, tables),
                                   base_emb)
        np.testing.assert_allclose(membership_features(genes[:, perm], mask, GENES).toarray(),
                                   base_members)
    assert base_pairs.shape == (3, 3 * 4 * 2) and base_emb.shape == (3, 2 * 3)
    np.testing.assert_allclose(base_members.sum(axis=1), 3)


def test_pairs_and_triples_share_one_matrix_with_an_arity_column(network):
    genes = np.array([[0, 1, 0], [4, 5, 6]])
    mask = np.array([[True, True, False], [True, True, True]])
    pairs = pair_network_features(genes, mask, [network])
    assert pairs.shape == (2, 3 * 4 + 1)
    assert np.isnan(pairs[0, 4:12]).all() and not np.isnan(pairs[1]).any()  # empty slots last
    assert pairs[:, -1].tolist() == [2, 3]
    emb = embedding_set_features(genes, mask, [np.ones((GENES, 2)) * 2])
    np.testing.assert_allclose(emb[:, :2], [[4, 4], [6, 6]])  # sums over real genes only
    np.testing.assert_allclose(emb[:, 2:4], [[4, 4], [8, 8]])  # products over real genes only
    assert membership_features(genes, mask, GENES).shape == (2, GENES + 1)


def test_sets_need_two_genes(network):
    with pytest.raises(ValueError, match="at least two genes"):
        pair_network_features(np.array([[0, 1]]), np.array([[True, False]]), [network])


def test_candidates_come_from_the_settings():
    ridge = candidate_estimators("additive", {"alphas": [0.1, 1.0, 10.0]}, seed=0, threads=1)
    assert [params for params, _ in ridge] == [{"alpha": 0.1}, {"alpha": 1.0}, {"alpha": 10.0}]
    (params, forest), = candidate_estimators(
        "rf_pair_features", {"n_estimators": 7, "max_depth": 3, "min_samples_leaf": 2,
                             "max_features": 0.5}, seed=4, threads=2)
    assert (forest.n_estimators, forest.n_jobs, forest.random_state) == (7, 2, 4)
    with pytest.raises(ValueError, match="not an estimator model"):
        candidate_estimators("dango", {}, 0, 1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    return prepare(tmp_path_factory.mktemp("tiny"), channels=("coexpression", "experimental"))


def test_mean_and_additive_write_the_predictions_contract(tiny, tmp_path):
    for model in ("mean", "additive"):
        run(*inputs_args(tiny, model), "--out", str(tmp_path / model))
    mean = evaluate(tiny, tmp_path / "mean", tmp_path / "eval_mean")
    additive = evaluate(tiny, tmp_path / "additive", tmp_path / "eval_additive")
    predictions = pd.read_parquet(tmp_path / "mean" / "predictions.parquet")
    assert set(predictions["role"]) == {"train", "val", "test"}
    assert predictions.loc[predictions["role"] == "test", "tau_pred"].nunique() == 1
    # A constant prediction has no Pearson: null in metrics.json, never 0.
    assert mean["test"]["pearson"] is None and mean["test"]["spearman"] is None
    assert additive["test"]["pearson"] is not None
    summary = json.loads((tmp_path / "additive" / "train_summary.json").read_text())
    assert summary["chosen"]["alpha"] in [c["alpha"] for c in summary["candidates"]]


def test_evaluation_refuses_predictions_that_miss_split_sets(tiny, tmp_path):
    run(*inputs_args(tiny, "mean"), "--out", str(tmp_path / "mean"))
    path = tmp_path / "mean" / "predictions.parquet"
    frame = pd.read_parquet(path)
    frame.drop(frame.index[frame["role"] == "test"][:2]).to_parquet(path)
    with pytest.raises(AssertionError):  # `geneint evaluate` exits 1
        evaluate(tiny, tmp_path / "mean", tmp_path / "eval")
