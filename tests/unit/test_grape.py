"""GRAPE in PyG: its graphs (initial, learned, biotype relations), the perturbation operator
shared by training and prediction, the feature inputs and their logged fallbacks, and a short
training run end to end."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from geneint.data.files import InputFormatError
from geneint.data.single_cell.gene_features import gene_views, read_biotypes, read_feature_table
from geneint.models.grape import CODING, NONCODING, sparsify
from geneint.train.grape import (
    PERTURBATION_FACTORS,
    GrapeModule,
    GrapeSettings,
    ResponseData,
    build_model,
    factor_matrix,
    predict_profiles,
    train_grape,
)

GENES = 10
SMALL = GrapeSettings(hidden=16, out_dim=8, kernels=8, neighbours=4, pretrain_epochs=3,
                      epochs=2, batch_size=16)


def _views(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(GENES, 6)).astype(np.float32),
            rng.normal(size=(GENES, 5)).astype(np.float32)]


def _data(seed=0):
    rng = np.random.default_rng(seed)
    knocked_down = [[], [0], [1], [2], [0, 1], [3]]          # row 0: the control
    cell_condition = np.repeat(np.arange(5), 8)              # rows 0–4 train; 5 validates
    expression = rng.normal(1.0, 0.3, size=(len(cell_condition), GENES)).astype(np.float32)
    return ResponseData(expression=expression, cell_condition=cell_condition,
                        knocked_down=knocked_down, control=np.ones(GENES, np.float32),
                        val_conditions=np.array([5]),
                        val_means=np.ones((1, GENES), np.float32),
                        val_de=np.arange(4)[None, :])


def test_sparsify_row_normalises_and_keeps_the_entries_above_the_threshold_or_the_strongest():
    dense = torch.tensor([[4.0, 3.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 5.0, -1.0],
                          [1.0, 0.0, 0.0, 0.0]])
    out = sparsify(dense, threshold=0.15)
    assert torch.allclose(out[0], torch.tensor([0.4, 0.3, 0.2, 0.0]))   # 0.1 < 0.15 dropped
    assert torch.allclose(out[2], torch.tensor([0.0, 0.0, 1.0, 0.0]))   # negatives clamp to 0
    # Each row's strongest entries instead of the threshold (0.1 < 0.15 is kept here).
    top = sparsify(dense, threshold=0.15, neighbours=3)
    assert torch.allclose(top[0], torch.tensor([0.4, 0.3, 0.2, 0.0]))
    assert (top[1] > 0).sum() == 4 and (top[3] > 0).sum() == 1   # ties kept; zeros never
    assert torch.allclose(sparsify(dense, 0.15, neighbours=4)[0],
                          torch.tensor([0.4, 0.3, 0.2, 0.1]))


def test_relations_follow_the_biotypes_and_a_homogeneous_graph_has_one():
    coding = np.array([True] * 7 + [False] * 3)
    model = build_model(GENES, _views(), coding, SMALL)
    assert model.types == [CODING, NONCODING]
    assert [r[1] for r in model.relations] == ["cc", "cn", "nc", "nn"]
    homogeneous = build_model(GENES, _views(), np.ones(GENES, bool), SMALL)
    assert homogeneous.types == [CODING] and [r[1] for r in homogeneous.relations] == ["cc"]


def test_forward_gives_one_profile_per_perturbation_and_a_learned_graph():
    torch.manual_seed(0)
    views = [torch.as_tensor(v) for v in _views()]
    model = build_model(GENES, _views(), np.array([True] * 7 + [False] * 3), SMALL)
    model.set_initial_graph(views)
    # Row-normalised, then thresholded: every gene keeps itself (cosine 1), rows sum to ≤ 1.
    assert (model.initial.diagonal() > 0).all()
    assert (model.initial.sum(1) <= 1 + 1e-5).all()
    model.eval()
    factors = factor_matrix([[], [0], [0, 1]], GENES, 0.0)
    profiles, graph = model(views, factors, torch.ones(GENES))
    assert profiles.shape == (3, GENES) and graph.shape == (GENES, GENES)
    assert not torch.allclose(profiles[0], profiles[1])   # knocking gene 0 down changes it
    assert (graph > 0).sum(1).max() <= SMALL.neighbours


def test_the_perturbation_is_the_same_in_training_and_prediction_by_default(tmp_path):
    assert PERTURBATION_FACTORS["zero"] == (0.0, 0.0)
    train_factor, predict_factor = PERTURBATION_FACTORS["original"]
    assert (train_factor, predict_factor) == (0.0, -1.0)   # the published code, an option
    data = _data()
    module, _ = train_grape(data, _views(), np.ones(GENES, bool), SMALL, seed=0,
                            out_dir=tmp_path)
    # Prediction of a training condition = the model on the very factors training used.
    rows = [1, 4]
    predicted = predict_profiles(module, [data.knocked_down[r] for r in rows])
    with torch.no_grad():
        trained, _ = module.model(module.views(), module.train_factors[rows], module.control)
    assert np.allclose(predicted, trained.numpy(), atol=1e-6)
    original = GrapeModule(module.model, [torch.as_tensor(v) for v in _views()], data,
                           GrapeSettings(**{**SMALL.__dict__, "perturbation": "original"}))
    assert not np.allclose(predict_profiles(original.eval(), [[0]]),
                           predict_profiles(module, [[0]]))


def test_training_is_seeded_and_keeps_the_best_validation_epoch(tmp_path):
    data = _data()
    first, summary = train_grape(data, _views(), np.ones(GENES, bool), SMALL, 1, tmp_path / "a")
    second, _ = train_grape(data, _views(), np.ones(GENES, bool), SMALL, 1, tmp_path / "b")
    assert np.allclose(predict_profiles(first, [[0], [3]]), predict_profiles(second, [[0], [3]]))
    assert summary["best_val_mse_de"] is not None and summary["pretraining_loss"] > 0
    assert (tmp_path / "a" / "checkpoints" / "best.ckpt").exists()


def test_training_without_validation_perturbations_keeps_the_last_epoch(tmp_path, caplog):
    from dataclasses import replace

    data = replace(_data(), val_conditions=np.array([], dtype=np.int64),
                   val_means=np.zeros((0, GENES), np.float32),
                   val_de=np.zeros((0, 4), dtype=np.int64))
    with caplog.at_level(logging.WARNING, logger="geneint.train.grape"):
        module, summary = train_grape(data, [], np.ones(GENES, bool), SMALL, 0, tmp_path)
    assert summary["best_val_mse_de"] is None and "last epoch" in caplog.text
    assert predict_profiles(module, [[0]]).shape == (1, GENES)


def test_missing_feature_files_fall_back_with_a_logged_message(tmp_path, caplog):
    genes = [f"g{i}" for i in range(4)]
    table = tmp_path / "description.tsv"
    table.write_text("gene_name\tf1\tf2\ng0\t1\t2\ng1\t3\t4\ng2\t5\t6\n")
    with caplog.at_level(logging.INFO, logger="geneint.data.single_cell.gene_features"):
        views = gene_views({"description": table, "sequence": tmp_path / "absent.tsv"}, genes,
                           "learned")
    assert len(views) == 1 and views[0].shape == (4, 2)
    assert np.allclose(views[0][3], [3.0, 4.0])           # g3 unlisted: the mean vector
    messages = caplog.text
    assert "absent.tsv does not exist" in messages and "learns gene embeddings" in messages
    assert "1 of 4 genes have no features" in messages
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="geneint.data.single_cell.gene_features"):
        views = gene_views({}, genes, "onehot")
        coding = read_biotypes(None, genes)
    assert [v.shape for v in views] == [(4, 4), (4, 4)] and np.allclose(views[0], np.eye(4))
    assert "one-hot" in caplog.text and "every gene is taken as coding" in caplog.text
    assert coding.all()
    # With no view at all GRAPE learns one embedding per gene.
    model = build_model(4, [], np.ones(4, bool), SMALL)
    assert model.encoder is None and model.embedding.weight.shape == (4, SMALL.hidden)


def test_feature_and_biotype_files_are_checked(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("gene_name\tf1\ng0\t1\ng1\tx\n")
    with pytest.raises(InputFormatError, match=r"bad.tsv:3: gene 'g1' has a missing"):
        read_feature_table(bad, ["g0", "g1"])
    bad.write_text("symbol\tf1\ng0\t1\n")
    with pytest.raises(InputFormatError, match="starts with a gene_name column"):
        read_feature_table(bad, ["g0"])
    biotypes = tmp_path / "biotypes.tsv"
    biotypes.write_text("gene_name\tbiotype\ng0\tprotein_coding\ng1\tlncRNA\n")
    assert read_biotypes(biotypes, ["g0", "g1", "g2"]).tolist() == [True, False, True]
