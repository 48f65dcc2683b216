"""The response task's data: GEARS' layout checked on read, its DE rankings and simulation split
identical to cell-gears', a split that never leaks a held-out perturbation into training, and
the synthetic data with doubles, a shared response and feature files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

anndata = pytest.importorskip("anndata")

from geneint.data.files import InputFormatError  # noqa: E402
from geneint.data.single_cell.anndata_io import anndata_module  # noqa: E402
from geneint.data.single_cell.gears_format import (  # noqa: E402
    DE_KEYS,
    add_de_genes,
    condition_genes,
    prepare_response_data,
    read_perturb_processed,
    read_response_data,
)
from geneint.data.single_cell.response_split import (  # noqa: E402
    ResponseSplitSettings,
    read_response_split,
    split_perturbations,
)
from geneint.data.single_cell.synthetic import SyntheticSettings  # noqa: E402
from geneint.data.single_cell.synthetic_response import (  # noqa: E402
    ResponseSyntheticSettings,
    synthesize_response,
    write_synthetic_response,
)

anndata_module()
SMALL = SyntheticSettings(genes=12, control_cells=200, cells_per_perturbation=20)
SMALL_RESPONSE = ResponseSyntheticSettings(double_perturbations=14)


@pytest.fixture(scope="module")
def synthetic():
    return synthesize_response(SMALL, SMALL_RESPONSE)


def _gears_file(path, conditions, genes=("A", "B", "C"), X=None):
    X = np.abs(np.random.default_rng(0).normal(size=(len(conditions), len(genes)))) \
        if X is None else X
    obs = pd.DataFrame({"condition": conditions}, index=[str(i) for i in range(len(conditions))])
    var = pd.DataFrame({"gene_name": list(genes)}, index=[f"E{i}" for i in range(len(genes))])
    anndata.AnnData(X=X.astype(np.float32), obs=obs, var=var).write_h5ad(path)
    return path


@pytest.mark.parametrize("conditions, message", [
    (["ctrl", "A+ctrl", "A+B+C"], r"not ctrl, A\+ctrl or A\+B"),
    (["ctrl", "A", "A+ctrl"], r"not ctrl, A\+ctrl or A\+B"),
    (["A+ctrl", "B+ctrl", "A+B"], "no control cells"),
])
def test_reader_rejects_bad_conditions_naming_the_file(tmp_path, conditions, message):
    path = _gears_file(tmp_path / "bad.h5ad", conditions)
    with pytest.raises(InputFormatError, match=message) as err:
        read_perturb_processed(path)
    assert "bad.h5ad" in str(err.value)


def test_reader_rejects_a_file_without_conditions_or_gene_names(tmp_path):
    path = tmp_path / "nocond.h5ad"
    anndata.AnnData(X=np.ones((2, 2), np.float32),
                    obs=pd.DataFrame({"perturbation": ["ctrl", "A+ctrl"]}, index=["0", "1"]),
                    var=pd.DataFrame({"gene_name": ["A", "B"]}, index=["E0", "E1"])
                    ).write_h5ad(path)
    with pytest.raises(InputFormatError, match=r"no 'condition' column.*perturbation"):
        read_perturb_processed(path)
    path = _gears_file(tmp_path / "dup.h5ad", ["ctrl", "A+ctrl"], genes=("A", "A", "C"))
    with pytest.raises(InputFormatError, match="more than once"):
        read_perturb_processed(path)


def test_de_rankings_and_dropout_lists_are_cell_gears(synthetic):
    data_utils = pytest.importorskip("gears.data_utils")
    import scipy.sparse as sp

    ours = synthetic.adata.copy()
    ours.obs["cell_type"] = "synthetic"
    assert add_de_genes(ours) is True
    theirs = synthetic.adata.copy()
    theirs.X = sp.csr_matrix(theirs.X)
    theirs = data_utils.get_dropout_non_zero_genes(data_utils.get_DE_genes(theirs, False))
    for key in DE_KEYS:
        assert set(ours.uns[key]) == set(theirs.uns[key]), key
        for name in theirs.uns[key]:
            assert list(ours.uns[key][name]) == list(theirs.uns[key][name]), (key, name)
    assert add_de_genes(ours) is False  # present: kept, not recomputed


def test_split_is_cell_gears_simulation_split(synthetic):
    data_utils = pytest.importorskip("gears.data_utils")

    conditions = synthetic.adata.obs["condition"].astype(str)
    ours = split_perturbations(conditions, ResponseSplitSettings(0.75, 0.75, seed=1))
    adata = synthetic.adata.copy()
    adata, groups = data_utils.DataSplitter(adata, split_type="simulation").split_data(
        train_gene_set_size=0.75, combo_seen2_train_frac=0.75, seed=1)
    theirs = adata.obs.drop_duplicates("condition").set_index("condition")["split"]
    assert ours.set_index("condition")["split"].to_dict() == theirs.to_dict()
    for group, members in groups["test_subgroup"].items():
        mine = ours[(ours["split"] == "test") & (ours["subgroup"] == group)]["condition"]
        assert sorted(mine) == sorted(members), group
    assert {"unseen_single", "combo_seen1", "combo_seen2"} <= set(ours["subgroup"])


def test_split_is_seeded_and_never_puts_held_out_genes_in_training(synthetic):
    conditions = synthetic.adata.obs["condition"].astype(str)
    split = split_perturbations(conditions)
    assert split.equals(split_perturbations(conditions))
    assert not split.equals(split_perturbations(conditions, ResponseSplitSettings(seed=2)))
    train = split[split["split"] == "train"]
    # "Seen" is relative to the perturbations outside the test set (train + validation).
    train_genes = {g for c in split.loc[split["split"] != "test", "condition"]
                   for g in condition_genes(c)}
    test = split[split["split"] == "test"].set_index("condition")["subgroup"]
    for condition, group in test.items():
        seen = sum(g in train_genes for g in condition_genes(condition))
        expected = {"unseen_single": 0, "combo_seen0": 0, "combo_seen1": 1, "combo_seen2": 2}
        assert seen == expected[group], (condition, group)
    assert not set(train["condition"]) & set(split.loc[split["split"] != "train",
                                                        "condition"])


def test_training_inputs_hold_no_cell_of_a_held_out_perturbation(tmp_path, synthetic):
    from geneint.train.response import grape_inputs, prediction_targets

    synthetic.adata.write_h5ad(tmp_path / "raw.h5ad")
    prepare_response_data(tmp_path / "raw.h5ad", tmp_path / "data.h5ad")
    adata = read_response_data(tmp_path / "data.h5ad")
    split = split_perturbations(adata.obs["condition"])
    data, conditions = grape_inputs(adata, split, prediction_targets(split))
    trained_on = {conditions[row] for row in np.unique(data.cell_condition)}
    held_out = set(split.loc[split["split"] != "train", "condition"])
    assert trained_on == set(split.loc[split["split"] == "train", "condition"])
    assert not trained_on & held_out
    assert len(data.expression) == int(adata.obs["condition"].isin(trained_on).sum())


def test_prepare_drops_unmeasured_perturbations_and_counts_them(tmp_path):
    conditions = ["ctrl"] * 4 + ["A+ctrl"] * 3 + ["Z+ctrl"] * 2 + ["A+B"] * 3 + ["B+ctrl"] * 3
    raw = _gears_file(tmp_path / "raw.h5ad", conditions)
    _, qc = prepare_response_data(raw, tmp_path / "data.h5ad")
    adata = read_response_data(tmp_path / "data.h5ad")
    assert "Z+ctrl" not in set(adata.obs["condition"])
    assert qc.counts["cells_of_unmeasured_perturbed_genes"] == 2
    report = json.loads((tmp_path / "data.h5ad.qc.json").read_text())
    assert report["examples"]["cells_of_unmeasured_perturbed_genes"] == ["Z+ctrl"]
    assert report["counts"]["double_perturbations"] == 1
    assert set(adata.uns["rank_genes_groups_cov_all"]) == {
        "cells_A+ctrl_1+1", "cells_B+ctrl_1+1", "cells_A+B_1+1"}


def test_split_file_must_cover_the_data(tmp_path):
    path = tmp_path / "split.tsv"
    path.write_text("condition\tsplit\tsubgroup\nctrl\ttrain\tcontrol\nA+ctrl\tholdout\tx\n")
    with pytest.raises(InputFormatError, match=r"split.tsv:3: split 'holdout'"):
        read_response_split(path)
    path.write_text("condition\tsplit\tsubgroup\nctrl\ttrain\tcontrol\n")
    with pytest.raises(InputFormatError, match="does not list each condition"):
        read_response_split(path, ["ctrl", "A+ctrl"])


def test_synthetic_response_has_doubles_a_shared_response_and_inputs(tmp_path, synthetic):
    conditions = synthetic.adata.obs["condition"].astype(str)
    doubles = {c for c in set(conditions) if len(condition_genes(c)) == 2}
    assert len(doubles) == 14
    assert len(set(conditions)) == 1 + SMALL.genes + 14
    # The same causal graph as the network demo at the same seed.
    from geneint.data.single_cell.synthetic import synthesize

    _, network_edges = synthesize(SMALL)
    assert synthetic.edges.equals(network_edges)
    # A knocked-down gene drops in its own cells.
    X = pd.DataFrame(synthetic.adata.X, columns=synthetic.adata.var["gene_name"])
    gene = synthetic.adata.var["gene_name"].iloc[0]
    assert X[conditions.to_numpy() == f"{gene}+ctrl"][gene].mean() < \
        X[conditions.to_numpy() == "ctrl"][gene].mean() - 0.5
    write_synthetic_response(SMALL, SMALL_RESPONSE, tmp_path)
    for name in ("perturb_processed.h5ad", "true_graph.tsv", "description.tsv", "sequence.tsv",
                 "biotypes.tsv"):
        assert (tmp_path / name).exists(), name
    biotypes = pd.read_csv(tmp_path / "biotypes.tsv", sep="\t")
    assert set(biotypes["biotype"]) <= {"protein_coding", "lncRNA"}
    assert read_perturb_processed(tmp_path / "perturb_processed.h5ad").n_vars == SMALL.genes
