"""GEARS' response metrics: hand-computed on a tiny fixture, identical to cell-gears' own
(``compute_metrics``, ``deeper_analysis``, ``non_dropout_analysis``, ``get_coeffs``) on a larger
one; the baselines' profiles; the evaluation file contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geneint.evaluate.response import (
    distance_correlation,
    interaction_coefficients,
    pearson,
    perturbation_metrics,
)
from geneint.models.response_baselines import (
    additive_baseline,
    control_baseline,
    mean_baseline,
)


def test_metrics_of_a_tiny_perturbation_by_hand():
    control = np.array([1.0, 1.0, 1.0, 1.0])
    true = np.array([3.0, 1.0, 0.0, 2.0])     # delta +2, 0, −1, +1
    pred = np.array([2.0, 1.5, 0.5, 1.0])     # delta +1, +0.5, −0.5, 0
    ranked = np.array([0, 2, 3, 1])           # DE order by |delta|
    metrics = perturbation_metrics(pred, true, control, ranked, np.array([0, 2]))
    assert metrics["mse"] == pytest.approx((1 + 0.25 + 0.25 + 1) / 4)
    assert metrics["rmse"] == pytest.approx(np.sqrt(2.5 / 4))
    # Direction: +/+, 0/+ (wrong), −/− , +/0 (wrong): 2 of 4; GRAPE's DAC is the same number.
    assert metrics["frac_correct_direction_all"] == metrics["dac"] == 0.5
    assert metrics["frac_opposite_direction_all"] == 0.0
    assert metrics["pearson_delta"] == pytest.approx(
        np.corrcoef([1, 0.5, -0.5, 0], [2, 0, -1, 1])[0, 1])
    assert metrics["pearson"] == pytest.approx(np.corrcoef(pred, true)[0, 1])
    # Top-20 of 4 genes is all of them, in DE order; the non-dropout top 20 is genes 0 and 2.
    assert metrics["mse_de20"] == metrics["mse_de"] == pytest.approx(metrics["mse"])
    assert metrics["mse_top20_de_non_dropout"] == pytest.approx((1 + 0.25) / 2)
    assert metrics["pearson_delta_top20_de_non_dropout"] == pytest.approx(1.0)
    assert metrics["frac_correct_direction_top20_non_dropout"] == 1.0
    assert "frac_correct_direction_20" not in metrics  # only with 20 genes or more


def test_a_constant_prediction_has_pearson_zero_as_in_gears():
    assert pearson(np.ones(5), np.arange(5.0)) == 0.0
    control = np.zeros(3)
    metrics = perturbation_metrics(control, np.array([1.0, -1.0, 2.0]), control,
                                   np.array([2, 0, 1]), np.array([], dtype=int))
    assert metrics["pearson_delta"] == 0.0
    assert metrics["frac_correct_direction_all"] == 0.0


def _fixture(seed=0, genes=60, perturbations=6, cells=15):
    rng = np.random.default_rng(seed)
    control_cells = rng.poisson(1.0, size=(40, genes)).astype(float)
    conditions, truth, preds = [], [], []
    for p in range(perturbations):
        shift = rng.normal(0, 1, genes) * (rng.random(genes) < 0.3)
        cells_p = np.clip(rng.poisson(1.0, size=(cells, genes)) + shift, 0, None)
        cells_p[:, p] = 0.0   # a dropout gene
        conditions += [f"G{p}+ctrl"] * cells
        truth.append(cells_p)
        preds.append(np.repeat((cells_p.mean(0) + rng.normal(0, 0.3, genes))[None], cells, 0))
    return control_cells, conditions, truth, preds


def test_metrics_equal_cell_gears_on_a_fixture():
    inference = pytest.importorskip("gears.inference")
    data_utils = pytest.importorskip("gears.data_utils")
    import anndata
    import scipy.sparse as sp

    control_cells, conditions, truth, preds = _fixture()
    genes = control_cells.shape[1]
    X = np.vstack([control_cells, *truth]).astype(np.float32)
    obs = pd.DataFrame({"condition": ["ctrl"] * len(control_cells) + conditions,
                        "cell_type": "K562"})
    obs.index = obs.index.astype(str)
    var = pd.DataFrame({"gene_name": [f"G{i}" for i in range(genes)]},
                       index=[f"ENSG{i:05d}" for i in range(genes)])
    adata = anndata.AnnData(X=sp.csr_matrix(X), obs=obs, var=var)
    adata = data_utils.get_dropout_non_zero_genes(data_utils.get_DE_genes(adata, False))
    position = {g: i for i, g in enumerate(adata.var_names)}
    name_of = dict(zip(adata.obs["condition"], adata.obs["condition_name"]))
    de_ranked = {c: np.array([position[g] for g in
                              adata.uns["rank_genes_groups_cov_all"][name_of[c]]])
                 for c in set(conditions)}
    pred_cells, truth_cells = np.vstack(preds), np.vstack(truth)
    test_res = {"pert_cat": np.array(conditions), "pred": pred_cells, "truth": truth_cells,
                "pred_de": np.stack([pred_cells[i, de_ranked[c][:20]]
                                     for i, c in enumerate(conditions)]),
                "truth_de": np.stack([truth_cells[i, de_ranked[c][:20]]
                                      for i, c in enumerate(conditions)])}
    _, basic = inference.compute_metrics(test_res)
    deeper = inference.deeper_analysis(adata, test_res)
    non_dropout = inference.non_dropout_analysis(adata, test_res)
    control = np.asarray(adata.X[: len(control_cells)].mean(0)).ravel()  # as GEARS takes it
    compared = 0
    for condition in set(conditions):
        rows = np.array(conditions) == condition
        top20 = np.array([position[g] for g in adata.uns["top_non_dropout_de_20"][
            name_of[condition]]])
        ours = perturbation_metrics(pred_cells[rows].mean(0), truth_cells[rows].mean(0),
                                    control, de_ranked[condition], top20)
        theirs = {**basic[condition], **deeper[condition], **non_dropout[condition]}
        for key in ("mse", "pearson", "mse_de", "pearson_de", "pearson_delta",
                    "pearson_delta_de", "frac_correct_direction_all",
                    "frac_correct_direction_20", "frac_correct_direction_50",
                    "frac_opposite_direction_top20_non_dropout",
                    "frac_correct_direction_top20_non_dropout",
                    "pearson_delta_top20_de_non_dropout", "pearson_top20_de_non_dropout",
                    "mse_top20_de_non_dropout"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), (condition, key)
            compared += 1
    assert compared == 6 * 14


def test_interaction_coefficients_equal_cell_gears():
    utils = pytest.importorskip("gears.utils")
    rng = np.random.default_rng(3)
    first, second = rng.normal(size=80), rng.normal(size=80)
    double = 0.8 * first + 1.6 * second + rng.normal(0, 0.1, 80)
    ours = interaction_coefficients(first, second, double)
    theirs = utils.get_coeffs(np.column_stack([first, second]), first, second, double)
    for key in ("c1", "c2", "mag", "dominance", "corr_fit", "dcor", "dcor_singles",
                "dcor_first", "dcor_second", "eq_contr"):
        assert ours["magnitude" if key == "mag" else key] == pytest.approx(theirs[key]), key
    assert ours["c2"] == pytest.approx(1.6, abs=0.1)
    assert ours["dominance"] == pytest.approx(np.log10(2), abs=0.05)


def test_distance_correlation_equals_dcor():
    dcor = pytest.importorskip("dcor")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=50), rng.normal(size=50)
    pair = np.column_stack([x, rng.normal(size=50)])
    assert distance_correlation(x, y) == pytest.approx(dcor.distance_correlation(x, y))
    assert distance_correlation(pair, x ** 2) == pytest.approx(
        dcor.distance_correlation(pair, x ** 2))
    assert distance_correlation(x, 2 * x + 1) == pytest.approx(1.0)
    assert distance_correlation(np.ones(5), x[:5]) == 0.0


def test_baselines_by_hand():
    means = np.array([[1.0, 1.0, 1.0], [3.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    conditions = ["ctrl", "A+ctrl", "B+ctrl"]
    targets = ["C+ctrl", "A+B", "A+C"]
    assert (control_baseline(means, conditions, targets) == 1.0).all()
    assert np.allclose(mean_baseline(means, conditions, targets), [2.0, 0.5, 1.0])
    additive = additive_baseline(means, conditions, targets)
    assert additive[0].tolist() == [1.0, 1.0, 1.0]   # C unseen: no change
    assert additive[1].tolist() == [3.0, 0.0, 1.0]   # both deltas added
    assert additive[2].tolist() == [3.0, 1.0, 1.0]   # A's delta only


def test_evaluation_writes_every_held_out_perturbation(tmp_path):
    anndata = pytest.importorskip("anndata")
    from geneint.data.single_cell.gears_format import (
        mean_profiles,
        prepare_response_data,
        read_response_data,
        write_predictions,
    )
    from geneint.data.single_cell.response_split import (
        split_perturbations,
        write_response_split,
    )
    from geneint.data.single_cell.synthetic import SyntheticSettings
    from geneint.data.single_cell.synthetic_response import (
        ResponseSyntheticSettings,
        synthesize_response,
    )
    from geneint.evaluate.perturbation_response import evaluate_response
    from geneint.train.response import prediction_targets

    assert anndata
    data = synthesize_response(SyntheticSettings(genes=12, control_cells=100,
                                                 cells_per_perturbation=10),
                               ResponseSyntheticSettings(double_perturbations=20))
    data.adata.write_h5ad(tmp_path / "raw.h5ad")
    prepare_response_data(tmp_path / "raw.h5ad", tmp_path / "data.h5ad")
    adata = read_response_data(tmp_path / "data.h5ad")
    split = split_perturbations(adata.obs["condition"])
    write_response_split(split, tmp_path / "split.tsv")
    # The observed means as the "prediction": every metric at its best.
    targets = prediction_targets(split)
    truth = mean_profiles(adata, [t for t in targets if t in set(adata.obs["condition"])])
    write_predictions(truth, split, adata.var, tmp_path / "predictions.h5ad", {"model": "x"})
    metrics = evaluate_response(tmp_path / "predictions.h5ad", tmp_path / "data.h5ad",
                                tmp_path / "split.tsv", tmp_path / "metrics.json")
    assert metrics["held_out"] == int((split["split"] == "test").sum())
    assert metrics["overall"]["mse"] == pytest.approx(0.0, abs=1e-10)
    assert metrics["overall"]["pearson_delta"] == pytest.approx(1.0)
    assert metrics["interactions"]["magnitude_abs_error"] == pytest.approx(0.0, abs=1e-6)
    per = pd.read_csv(tmp_path / "per_perturbation.tsv", sep="\t")
    assert set(per["condition"]) == set(split.loc[split["split"] == "test", "condition"])
    deltas = pd.read_csv(tmp_path / "de_deltas.tsv", sep="\t")
    assert np.allclose(deltas["true_delta"], deltas["predicted_delta"], atol=1e-5)
    assert json.loads((tmp_path / "metrics.json").read_text())["held_out"] == len(per)
