"""Every baseline — DCell over the demo's synthetic GO, multigraph over the demo's physical
network — learns the demo's planted signal (beats the training mean), and none learns anything
from shuffled labels. Slow: the demo-scale data set, a few forests and short DCell and
multigraph runs, ~4 minutes."""

from __future__ import annotations

import pytest
import torch
from demo_stages import evaluate, inputs_args, prepare, pretrain_all, run

pytestmark = pytest.mark.slow

FOREST = ("--n-estimators", "60", "--threads", "2")
MODELS = {
    "additive": (),
    "rf_pair_features": FOREST,
    "rf_embeddings": FOREST,
    "xgboost": ("--n-estimators", "200", "--threads", "2"),
    "dcell": ("--epochs", "15", "--threads", "2", "--no-progress-bar"),
    "multigraph": ("--epochs", "8", "--threads", "2", "--no-progress-bar"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    torch.set_num_threads(2)
    data = prepare(tmp_path_factory.mktemp("demo"), scale="demo")
    embeddings = [p.parent / "embeddings.pt" for p in pretrain_all(data, epochs=5)]
    return data, embeddings


def fit(data, embeddings, model: str, out, *extra: str) -> dict:
    needs = {"rf_pair_features": ("--graphs", *map(str, data.graphs)),
             "rf_embeddings": ("--embeddings", *map(str, embeddings)),
             "xgboost": ("--embeddings", *map(str, embeddings)),
             "dcell": ("--ontology", str(data.ontology)),
             "multigraph": ("--graphs", str(data.networks["physical"]))}.get(model, ())
    run(*inputs_args(data, model), *needs, *MODELS.get(model, ()), *extra, "--out", str(out))
    return evaluate(data, out, out.parent / f"eval_{out.name}")["test"]


def test_every_baseline_beats_the_mean_and_learns_nothing_from_shuffled_labels(demo, tmp_path):
    data, embeddings = demo
    mean = fit(data, embeddings, "mean", tmp_path / "mean")
    assert mean["pearson"] is None
    for model in MODELS:
        real = fit(data, embeddings, model, tmp_path / model)
        shuffled = fit(data, embeddings, model, tmp_path / f"{model}_shuffled",
                       "--shuffle-labels")
        print(f"\n{model}: test Pearson {real['pearson']:.3f} (shuffled labels "
              f"{shuffled['pearson']:.3f}); MSE {real['mse']:.5f} vs mean {mean['mse']:.5f}")
        assert real["pearson"] > 0.3 and real["mse"] < 0.95 * mean["mse"], model
        assert abs(shuffled["pearson"]) < 0.1, model
        assert shuffled["mse"] > 0.98 * mean["mse"], model
