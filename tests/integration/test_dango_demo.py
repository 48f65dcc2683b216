"""DANGO learns the planted signal of the demo data, and learns nothing from shuffled labels.

Acceptance test of the model (issue: DANGO reaches ≥ 0.8 × the oracle Pearson on the demo data
within the demo's time budget). Slow: about 3 minutes on 2 cores.
"""

from __future__ import annotations

import pytest
import torch
from demo_stages import evaluate, prepare, pretrain_all, run, train_args

pytestmark = pytest.mark.slow

#: The demo configuration's training settings (config/config.yaml).
DEMO_TRAIN = ("--epochs", "40", "--batch-size", "1024", "--lr", "3e-3",
              "--alpha-schedule", "linear_until_uniform", "--threads", "2")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    torch.set_num_threads(2)
    data = prepare(tmp_path_factory.mktemp("demo"), scale="demo")
    return data, pretrain_all(data, epochs=30)


def test_dango_reaches_80_percent_of_the_oracle(demo, tmp_path):
    data, pretrained = demo
    run(*train_args(data, pretrained, tmp_path / "train", extra=DEMO_TRAIN))
    test = evaluate(data, tmp_path / "train", tmp_path / "eval")["test"]
    print(f"\ndemo test: Pearson {test['pearson']:.3f}, Spearman {test['spearman']:.3f}, "
          f"AUROC {test['auroc']:.3f}, oracle {test['oracle_pearson']:.3f}")
    assert test["oracle_pearson"] > 0.75
    assert test["pearson"] >= 0.8 * test["oracle_pearson"]


def test_shuffled_labels_stay_near_zero(demo, tmp_path):
    """Train and validation labels permuted (test labels true): nothing links genes to τ.

    A single such run still correlates with τ by chance — an untrained read-out of
    graph-shaped embeddings is a random function of gene-level structure, which τ has (we saw
    +0.20, −0.06 and −0.11 for seeds 0, 1, 2) — so the control is judged over seeds: centred
    on 0, and every run far below the model trained on the real labels.
    """
    data, pretrained = demo
    extra = (*DEMO_TRAIN[:1], "15", *DEMO_TRAIN[2:], "--shuffle-labels")
    pearsons = []
    for seed in (0, 1, 2):
        out = tmp_path / f"seed{seed}"
        run(*train_args(data, pretrained, out / "train", extra=(*extra, "--seed", str(seed))))
        pearsons.append(evaluate(data, out / "train", out / "eval")["test"]["pearson"])
    print(f"\nshuffled labels: test Pearson per seed {[round(p, 3) for p in pearsons]}")
    assert abs(sum(pearsons) / len(pearsons)) < 0.1
    assert max(abs(p) for p in pearsons) < 0.3
