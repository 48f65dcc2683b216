"""DANGO learns the planted signal of the demo data, and learns nothing from shuffled labels.

Acceptance test of the model (issue: DANGO reaches ≥ 0.8 × the oracle Pearson on the demo data
within the demo's time budget). Slow: about 3 minutes on 2 cores.
"""

from __future__ import annotations

import json

import pytest
import torch
from demo_stages import evaluate, prepare, pretrain_all, run, train_args

pytestmark = pytest.mark.slow

#: The demo configuration's training settings (config/config.yaml).
DEMO_TRAIN = ("--epochs", "60", "--batch-size", "1024", "--lr", "3e-3",
              "--alpha-schedule", "linear_until_uniform", "--threads", "2")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    torch.set_num_threads(2)
    data = prepare(tmp_path_factory.mktemp("demo"), scale="demo")
    return data, pretrain_all(data, epochs=30)


def test_dango_reaches_80_percent_of_the_oracle(demo, tmp_path):
    data, pretrained = demo
    run(*train_args(data, pretrained, tmp_path / "train", extra=DEMO_TRAIN))
    evaluate(data, tmp_path / "train" / "best.ckpt", tmp_path / "eval")
    test = json.loads((tmp_path / "eval" / "metrics.json").read_text())["test"]
    print(f"\ndemo test: Pearson {test['pearson']:.3f}, Spearman {test['spearman']:.3f}, "
          f"AUROC {test['auroc']:.3f}, oracle {test['oracle_pearson']:.3f}")
    assert test["oracle_pearson"] > 0.75
    assert test["pearson"] >= 0.8 * test["oracle_pearson"]


def test_shuffled_labels_stay_near_zero(demo, tmp_path):
    data, pretrained = demo
    extra = (*DEMO_TRAIN[:1], "20", *DEMO_TRAIN[2:], "--shuffle-labels")
    run(*train_args(data, pretrained, tmp_path / "train", extra=extra))
    evaluate(data, tmp_path / "train" / "best.ckpt", tmp_path / "eval")
    test = json.loads((tmp_path / "eval" / "metrics.json").read_text())["test"]
    print(f"\nshuffled labels: test Pearson {test['pearson']:.3f}")
    assert abs(test["pearson"]) < 0.15
