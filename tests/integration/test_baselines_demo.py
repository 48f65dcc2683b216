"""Every baseline — DCell over the demo's synthetic GO, multigraph over the demo's physical
network — learns the demo's planted signal (beats the training mean), and none learns anything
from shuffled labels; the hetero_sagpool classifier beats the majority class and its own
shuffled-label control on macro F1. Slow: the demo-scale data set, a few forests and short
DCell, multigraph and hetero_sagpool runs, ~7 minutes."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from demo_stages import evaluate, inputs_args, prepare, pretrain_all, run

from geneint.data.interaction_classes import InteractionClasses
from geneint.evaluate.metrics import classification_metrics

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


def test_hetero_sagpool_beats_the_majority_class_and_shuffled_labels_on_macro_f1(demo,
                                                                                tmp_path):
    """The classifier over the demo's physical and regulatory networks: its test macro F1
    beats always predicting the training majority class, and a run on shuffled labels does
    not."""

    data, _ = demo
    graphs = ("--graphs", str(data.networks["physical"]), str(data.networks["regulatory"]))
    quick = ("--epochs", "5", "--threads", "2", "--no-progress-bar")
    real = tmp_path / "hetero_sagpool"
    run(*inputs_args(data, "hetero_sagpool"), *graphs, *quick, "--out", str(real))
    metrics = evaluate(data, real, tmp_path / "eval_real")["test"]
    shuffled = tmp_path / "hetero_sagpool_shuffled"
    run(*inputs_args(data, "hetero_sagpool"), *graphs, *quick, "--shuffle-labels", "--out",
        str(shuffled))
    control = evaluate(data, shuffled, tmp_path / "eval_shuffled")["test"]

    predictions = pd.read_parquet(real / "predictions.parquet")
    classes = InteractionClasses.from_config(0.05)
    labels = {role: classes.labels(torch.as_tensor(group["tau"].to_numpy()),
                                   torch.as_tensor(group["arity"].to_numpy()))
              for role, group in predictions.groupby("role")}
    majority = int(torch.bincount(labels["train"]).argmax())
    test = labels["test"]
    always = torch.full_like(test, majority)
    baseline = classification_metrics(test, always, torch.nn.functional.one_hot(always, 3),
                                      classes.names)
    print(f"\nhetero_sagpool test macro F1 {metrics['macro_f1']:.3f} (accuracy "
          f"{metrics['accuracy']:.3f}, macro AUROC {metrics['macro_auroc']:.3f}); shuffled "
          f"labels {control['macro_f1']:.3f}; majority class {baseline['macro_f1']:.3f}")
    assert {f"prob_{c}" for c in classes.names} <= set(predictions.columns)
    assert metrics["macro_f1"] > baseline["macro_f1"] + 0.05
    assert metrics["macro_f1"] > control["macro_f1"] + 0.05
    # The control's ranking is a function of graph structure alone, which the planted modules
    # make informative in either direction (0.449 on these data), so it is compared, not pinned
    # at 0.5.
    assert metrics["macro_auroc"] > 0.6 and metrics["macro_auroc"] > control["macro_auroc"] + 0.1
