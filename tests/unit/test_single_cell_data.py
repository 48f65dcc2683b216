"""The single-cell data layer: readers that reject malformed AnnData with a clear message,
CausalBench's preprocessing, the stratified reproducible split, the training regimes, the
synthetic data's known graph, and the known-edge sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

anndata = pytest.importorskip("anndata")

from geneint.data.files import InputFormatError, QCReport  # noqa: E402
from geneint.data.single_cell import anndata_io  # noqa: E402
from geneint.data.single_cell.anndata_io import (  # noqa: E402
    CONTROL,
    EXCLUDED,
    INTERVENTION,
    read_cells,
    read_perturbseq,
    write_cells,
)
from geneint.data.single_cell.gears_format import gears_intervention, read_gears  # noqa: E402
from geneint.data.single_cell.ground_truth import (  # noqa: E402
    chipseq_edges,
    ground_truth_kind,
    krumsiek11_edges,
)
from geneint.data.single_cell.preprocess import (  # noqa: E402
    PreprocessSettings,
    parse_regime,
    preprocess,
    read_split,
    regime_cells,
    stratified_split,
    write_split,
)
from geneint.data.single_cell.synthetic import (  # noqa: E402
    SyntheticSettings,
    random_dag,
    synthesize,
)

anndata_io.anndata_module()  # pandas 3's string arrays may be written


def _raw(path, obs=None, var=None, X=None):
    X = np.arange(12, dtype=np.float32).reshape(4, 3) if X is None else X
    obs = pd.DataFrame({"gene": ["non-targeting", "A", "A", "B"]}) if obs is None else obs
    var = pd.DataFrame({"gene_name": ["A", "B", "C"]}) if var is None else var
    obs.index = obs.index.astype(str)
    var.index = [f"E{i}" for i in range(len(var))]
    anndata.AnnData(X=X, obs=obs, var=var).write_h5ad(path)
    return path


def test_reader_takes_the_replogle_layout(tmp_path):
    adata = read_perturbseq(_raw(tmp_path / "ok.h5ad"))
    assert list(adata.var_names) == ["A", "B", "C"]
    assert list(adata.obs[INTERVENTION]) == [CONTROL, "A", "A", "B"]


@pytest.mark.parametrize("change, message", [
    ({"obs": pd.DataFrame({"perturbation": ["x"] * 4})}, "no intervention column 'gene'"),
    ({"obs": pd.DataFrame({"gene": ["A", "A", "B", "B"]})}, "no control cells"),
    ({"var": pd.DataFrame({"symbol": ["A", "B", "C"]})}, "no gene-name column 'gene_name'"),
    ({"var": pd.DataFrame({"gene_name": ["A", "A", "C"]})}, "more than once"),
    ({"X": -np.ones((4, 3), dtype=np.float32)}, "negative values"),
    ({"X": np.full((4, 3), np.nan, dtype=np.float32)}, "NaN or infinite"),
])
def test_reader_rejects_a_malformed_file_naming_it(tmp_path, change, message):
    path = _raw(tmp_path / "bad.h5ad", **change)
    with pytest.raises(InputFormatError, match=message) as err:
        read_perturbseq(path)
    assert str(path) in str(err.value)


def test_reader_rejects_a_file_that_is_not_h5ad(tmp_path):
    path = tmp_path / "cells.h5ad"
    path.write_text("gene\tcount\n")
    with pytest.raises(InputFormatError, match="not a readable .h5ad"):
        read_perturbseq(path)


def test_gears_conditions_become_single_knockdowns(tmp_path):
    assert gears_intervention("ctrl") == CONTROL
    assert gears_intervention("A+ctrl") == gears_intervention("ctrl+A") == "A"
    assert gears_intervention("A+B") is None
    obs = pd.DataFrame({"condition": ["ctrl", "A+ctrl", "A+B", "ctrl+B"]})
    adata = read_gears(_raw(tmp_path / "gears.h5ad", obs=obs))
    assert list(adata.obs[INTERVENTION]) == [CONTROL, "A", EXCLUDED, "B"]
    with pytest.raises(InputFormatError, match="no 'condition' column"):
        read_gears(_raw(tmp_path / "bad.h5ad"))


def test_canonical_file_round_trips_and_a_raw_file_is_refused(tmp_path):
    adata = read_perturbseq(_raw(tmp_path / "raw.h5ad"))
    write_cells(adata, tmp_path / "cells.h5ad", {"dataset": "test"})
    cells = read_cells(tmp_path / "cells.h5ad")
    assert list(cells.obs[INTERVENTION]) == [CONTROL, "A", "A", "B"]
    assert cells.X.dtype == np.float32 and cells.uns["geneint"]["dataset"] == "test"
    with pytest.raises(InputFormatError, match="not a geneint cells.h5ad"):
        read_cells(tmp_path / "raw.h5ad")


def _cells(labels, genes=("A", "B", "C"), seed=0):
    rng = np.random.default_rng(seed)
    X = rng.poisson(3.0, size=(len(labels), len(genes))).astype(np.float32)
    adata = anndata.AnnData(X=X, var=pd.DataFrame(index=list(genes)))
    adata.obs[INTERVENTION] = pd.Categorical(labels)
    return adata


def test_preprocessing_keeps_genes_knocked_down_in_enough_cells_and_counts_the_rest():
    labels = [CONTROL] * 10 + ["A"] * 6 + ["B"] * 3 + ["Z"] * 7
    qc = QCReport("test")
    cells = preprocess(_cells(labels), PreprocessSettings(min_cells=5), qc)
    assert list(cells.var_names) == ["A"]
    assert (cells.obs[INTERVENTION] == EXCLUDED).sum() == 3 + 7
    assert qc.counts["perturbations_excluded_few_cells"] == 1          # B: 3 cells
    assert qc.counts["perturbations_excluded_not_measured"] == 1       # Z: not a column
    assert qc.counts["genes_dropped_not_knocked_down"] == 2
    # Scaled to the median total count, then log1p (CausalBench's normalize_per_cell + log1p).
    raw = _cells(labels).X
    scaled = raw / raw.sum(1, keepdims=True) * np.median(raw.sum(1))
    np.testing.assert_allclose(cells.X[:, 0], np.log1p(scaled[:, 0]), rtol=1e-5)


def test_preprocessing_refuses_when_no_gene_qualifies():
    with pytest.raises(ValueError, match="more than 100 cells"):
        preprocess(_cells([CONTROL] * 5 + ["A"] * 5), PreprocessSettings(), QCReport("t"))


def test_split_is_stratified_reproducible_and_causalbenchs_at_seed_0(tmp_path):
    from sklearn.model_selection import train_test_split

    labels = np.array([CONTROL] * 50 + ["A"] * 20 + ["B"] * 30)
    roles = stratified_split(labels, 0.2, seed=0)
    assert (roles == stratified_split(labels, 0.2, seed=0)).all()
    assert not (roles == stratified_split(labels, 0.2, seed=1)).all()
    for label, n in [(CONTROL, 50), ("A", 20), ("B", 30)]:
        assert ((labels == label) & (roles == "test")).sum() == n // 5
    # CausalBench splits (expression, interventions) with the same call: the same test cells.
    _, test = train_test_split(np.arange(100), test_size=0.2, random_state=0, stratify=labels)
    assert set(np.nonzero(roles == "test")[0]) == set(test)
    write_split(labels, roles, tmp_path / "split.tsv")
    assert (read_split(tmp_path / "split.tsv", 100) == roles).all()
    with pytest.raises(InputFormatError, match="not the 99 cells"):
        read_split(tmp_path / "split.tsv", 99)
    with pytest.raises(ValueError, match="2 or more cells"):
        stratified_split(np.array([CONTROL, CONTROL, "A"]))


def test_regimes_keep_exactly_the_intended_cells():
    genes = [f"G{i}" for i in range(10)]
    labels = np.array([CONTROL] * 5 + [g for g in genes for _ in range(3)] + [EXCLUDED] * 4)
    observational = regime_cells(labels, "observational", seed=0)
    assert set(labels[observational]) == {CONTROL} and observational.sum() == 5
    everything = regime_cells(labels, "interventional", seed=0)
    assert everything.all()
    partial = regime_cells(labels, "partial0.3", seed=4)
    kept = set(labels[partial]) - {CONTROL}
    assert len(kept) == 3 and kept <= set(genes)            # int(0.3 × 10) genes, no excluded
    assert partial.sum() == 5 + 3 * 3                        # all their cells, all controls
    assert (regime_cells(labels, "partial0.3", seed=4) == partial).all()
    assert set(labels[regime_cells(labels, "partial0.3", seed=5)]) != set(labels[partial])
    assert parse_regime("partial0.25") == ("partial", 0.25)
    with pytest.raises(ValueError, match="unknown training regime"):
        parse_regime("partial1.5")


def test_synthetic_data_has_its_graph_and_the_knockdowns_move_the_children(tmp_path):
    settings = SyntheticSettings(genes=12, control_cells=400, cells_per_perturbation=200)
    adata, edges = synthesize(settings)
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    raw = read_perturbseq(path)                     # the real files' reader takes it
    assert raw.n_obs == 400 + 12 * 200 and raw.n_vars == 12
    assert list(raw.var_names) == sorted(raw.var_names)      # columns by name, not causal order
    # A DAG: no gene is its own ancestor.
    import networkx as nx

    assert nx.is_directed_acyclic_graph(nx.DiGraph(zip(edges["source"], edges["target"])))
    labels = raw.obs[INTERVENTION].astype(str).to_numpy()
    X = np.log1p(raw.X / raw.X.sum(1, keepdims=True) * 1e3)
    column = {g: i for i, g in enumerate(raw.var_names)}
    control = X[labels == CONTROL].mean(0)
    for source, target in zip(edges["source"], edges["target"]):
        shift = X[labels == source][:, column[target]].mean() - control[column[target]]
        assert abs(shift) > 0.1, (source, target, shift)
    # Knocked-down genes themselves drop.
    for gene in raw.var_names:
        assert X[labels == gene][:, column[gene]].mean() < control[column[gene]] - 0.5
    again, edges_again = synthesize(settings)
    assert (again.X == adata.X).all() and edges_again.equals(edges)


def test_random_dag_has_about_the_requested_parents():
    graph = random_dag(SyntheticSettings(genes=400, parents=2.0), np.random.default_rng(0))
    parents = (graph.weights != 0).sum(0)
    assert 1.7 < parents.mean() < 2.1
    assert np.allclose(np.tril(graph.weights), 0)               # edges follow the order


def test_known_edges_of_krumsiek11_and_chipseq():
    krumsiek = krumsiek11_edges()
    assert ("Gata1", "Fog1") in krumsiek and ("Pu.1", "Gata1") in krumsiek
    assert ("Gata2", "Gata2") not in krumsiek and len(krumsiek) == 30 - 4  # 4 self-couplings
    pytest.importorskip("causalscbench")
    chip = chipseq_edges("chipseq_k562")
    assert len(chip) > 800_000 and ("KDM5B", "CYP2W1") in chip
    assert ground_truth_kind("auto", "replogle_rpe1") == "chipseq_hepg2"
    assert ground_truth_kind("auto", "norman") == "none"
