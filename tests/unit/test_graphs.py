"""Per-network graphs: names, symmetric edge_index, the λ rule on hand-made releases, files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from geneint.data.canonical import EDGE_COLUMNS, STRING_CHANNELS
from geneint.data.files import InputFormatError, QCReport
from geneint.graphs.network import (
    DANGO_LAMBDA,
    LAMBDA_HIGH,
    LAMBDA_LOW,
    NetworkGraph,
    build_edge_index,
    build_network_graph,
    choose_lambda,
    decreased_zero_fraction,
    gene_index_checksum,
    lambda_from_fraction,
    network_name,
    parse_network_name,
    read_graph,
    release_version,
    write_graph,
)

A, B, C, D, E, F = "YAL001C", "YAL002W", "YAL003W", "YAL004W", "YAL005C", "YAL007C"
X, W = "YBR001C", "YBR002C"  # never in the gene index


def edges(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=EDGE_COLUMNS)
    frame["weight"] = frame["weight"].astype(np.float32)
    return frame


# Two hand-made releases. Genes present (any channel): old {A..E}, new {A..F}; common {A..E}.
#   coexpression old: A-B, A-C            -> 2 edges, 5*4/2 - 2 = 8 zero pairs
#   coexpression new: A-B, B-C, C-D, A-F  -> gained B-C, C-D (A-F: F only in new) -> 2/8
#   experimental old: D-E; new: D-E, A-E  -> 1 edge, 9 zero pairs, gained A-E -> 1/9
OLD = edges((A, B, "coexpression", 0.5), (A, C, "coexpression", 0.25),
            (D, E, "experimental", 0.75))
NEW = edges((A, B, "coexpression", 0.6), (B, C, "coexpression", 0.3),
            (C, D, "coexpression", 0.9), (A, F, "coexpression", 0.4),
            (D, E, "experimental", 0.8), (A, E, "experimental", 0.2))
GENES = [A, B, C, D, E, F]


# --- names -----------------------------------------------------------------------------------

def test_network_name_round_trip_for_every_channel():
    for channel in STRING_CHANNELS:
        name = network_name("9.1", channel)
        assert name == f"string_v9.1_{channel}"
        assert parse_network_name(name) == ("9.1", channel)
    assert parse_network_name("string_v11.0_coexpression") == ("11.0", "coexpression")
    assert parse_network_name("string_v12_fusion") == ("12", "fusion")


def test_parse_network_name_rejects_unknown_channel():
    with pytest.raises(ValueError, match="not a network name"):
        parse_network_name("string_v12.0_textmining")
    with pytest.raises(ValueError, match="not a network name"):
        parse_network_name("string_v9.1_combined")


@pytest.mark.parametrize("name", [
    "string_9.1_coexpression", "v9.1_coexpression", "string_v9.1_Coexpression",
    "string_v9.1_coexpression_x", "string_v_coexpression", "string_v9.1-coexpression",
    " string_v9.1_coexpression", "",
])
def test_parse_network_name_rejects_bad_pattern(name):
    with pytest.raises(ValueError, match="not a network name"):
        parse_network_name(name)


# --- build_edge_index ------------------------------------------------------------------------

def test_build_edge_index_symmetric_sorted_weighted_and_counts_outside_edges():
    genes = [C, A, B, D]  # deliberately not alphabetical: positions C=0, A=1, B=2, D=3
    table = edges((A, B, "coexpression", 0.5), (A, D, "coexpression", 0.25),
                  (B, C, "coexpression", 0.75), (C, X, "coexpression", 0.9),
                  (W, X, "coexpression", 0.3))
    qc = QCReport([])
    edge_index, weight = build_edge_index(table, genes, qc)
    expected = [(0, 2, 0.75), (1, 2, 0.5), (1, 3, 0.25), (2, 0, 0.75), (2, 1, 0.5),
                (3, 1, 0.25)]
    assert edge_index.dtype == torch.long and weight.dtype == torch.float32
    assert edge_index.tolist() == [[s for s, _, _ in expected], [d for _, d, _ in expected]]
    assert weight.tolist() == [w for _, _, w in expected]
    assert qc.counts["edges_outside_genes"] == 2
    assert qc.counts["edges_kept"] == 3
    # both directions of every edge, with the same weight
    pairs = {(s, d): w for (s, d), w in zip(edge_index.T.tolist(), weight.tolist())}
    assert all(pairs[(d, s)] == w for (s, d), w in pairs.items())


def test_build_edge_index_on_a_filtered_frame_and_without_qc():
    # a channel slice of a bigger table keeps its original (non-contiguous) row labels
    table = NEW[NEW["channel"] == "experimental"]
    assert list(table.index) == [4, 5]
    edge_index, weight = build_edge_index(table, [A, D, E])
    # A=0, D=1, E=2: A-E (0,2,.2), D-E (1,2,.8)
    assert edge_index.tolist() == [[0, 1, 2, 2], [2, 2, 0, 1]]
    assert weight.tolist() == pytest.approx([0.2, 0.8, 0.2, 0.8])


def test_build_edge_index_all_edges_outside():
    qc = QCReport([])
    edge_index, weight = build_edge_index(edges((W, X, "fusion", 0.5)), [A, B], qc)
    assert tuple(edge_index.shape) == (2, 0) and edge_index.dtype == torch.long
    assert tuple(weight.shape) == (0,)
    assert qc.counts["edges_outside_genes"] == 1 and qc.counts["edges_kept"] == 0


# --- the λ rule ------------------------------------------------------------------------------

def test_decreased_zero_fraction_by_hand():
    stats = decreased_zero_fraction(OLD, NEW, "coexpression")
    assert stats == {"fraction": 2 / 8, "gained_edges": 2, "old_edges": 2, "zero_pairs": 8,
                     "genes": 5}
    stats = decreased_zero_fraction(OLD, NEW, "experimental")
    assert stats == {"fraction": 1 / 9, "gained_edges": 1, "old_edges": 1, "zero_pairs": 9,
                     "genes": 5}


def test_decreased_zero_fraction_ignores_gene_only_in_newer_release():
    # F appears only in the new release: adding many F edges changes nothing
    more = pd.concat([NEW, edges(*[(g, F, "coexpression", 0.5) for g in (B, C, D, E)])],
                     ignore_index=True)
    assert decreased_zero_fraction(OLD, more, "coexpression") == \
        decreased_zero_fraction(OLD, NEW, "coexpression")


def test_decreased_zero_fraction_restricted_to_gene_index():
    # genes {A,B,C,D}: 6 pairs, old A-B, A-C -> 4 zero pairs; gained B-C, C-D -> 2/4
    stats = decreased_zero_fraction(OLD, NEW, "coexpression", genes=[A, B, C, D])
    assert stats == {"fraction": 0.5, "gained_edges": 2, "old_edges": 2, "zero_pairs": 4,
                     "genes": 4}


def test_decreased_zero_fraction_lost_edges_do_not_count_and_no_change_is_zero():
    assert decreased_zero_fraction(OLD, OLD, "coexpression")["fraction"] == 0.0
    # the newer release loses A-C and gains nothing
    shrunk = OLD[~((OLD["gene_a"] == A) & (OLD["gene_b"] == C))]
    assert decreased_zero_fraction(OLD, shrunk, "coexpression")["gained_edges"] == 0


def test_decreased_zero_fraction_needs_two_common_genes():
    with pytest.raises(ValueError, match="fewer than 2 genes"):
        decreased_zero_fraction(edges((A, B, "fusion", 0.5)), edges((C, D, "fusion", 0.5)),
                                "fusion")


@pytest.mark.parametrize("fraction, lam", [(0.0, 1.0), (0.005, 1.0), (0.01, 1.0),
                                           (0.0100001, 0.1), (0.02, 0.1), (0.25, 0.1)])
def test_lambda_from_fraction_strictly_greater_than_one_percent(fraction, lam):
    assert lambda_from_fraction(fraction) == lam
    assert (LAMBDA_LOW, LAMBDA_HIGH) == (0.1, 1.0)


RELEASES = {"9.1": OLD, "11.0": NEW}


def test_build_network_graph_two_releases_computes_lambda():
    qc = QCReport([])
    graph = build_network_graph("string_v9.1_coexpression", ["9.1", "11.0"], RELEASES, GENES,
                                qc=qc)
    assert graph.lam == 0.1  # 25% > 1%
    assert graph.meta["lambda_source"] == "computed v9.1->v11.0"
    assert graph.meta["fraction"] == 0.25 and graph.meta["gained_edges"] == 2
    assert graph.meta["release"] == "9.1" and graph.meta["channel"] == "coexpression"
    assert graph.meta["genes_checksum"] == gene_index_checksum(GENES)
    # the v9.1 coexpression graph itself: A-B (0,1,.5), A-C (0,2,.25)
    assert graph.edge_index.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]
    assert graph.weight.tolist() == [0.5, 0.25, 0.5, 0.25]
    assert graph.num_nodes == 6 and graph.num_edges == 2
    assert graph.meta["edges"] == 2 and graph.meta["genes_with_edges"] == 3
    assert qc.info["lambda_source"] == "computed v9.1->v11.0"
    assert qc.counts["edges_kept"] == 2 and qc.counts["edges_outside_genes"] == 0

    exp = build_network_graph("string_v9.1_experimental", ["9.1", "11.0"], RELEASES, GENES)
    assert exp.lam == 0.1 and exp.meta["fraction"] == pytest.approx(1 / 9)


def test_build_network_graph_newest_release_compared_with_previous():
    graph = build_network_graph("string_v11.0_coexpression", ["9.1", "11.0"], RELEASES, GENES)
    assert graph.meta["lambda_source"] == "computed v9.1->v11.0"
    assert graph.lam == 0.1
    # the v11.0 graph has 4 edges, all inside the index
    assert graph.num_edges == 4 and graph.meta["genes_with_edges"] == 5


def test_choose_lambda_three_releases_uses_next_newer_or_previous():
    # v10.5 = v9.1: 9.1->10.5 gains nothing (λ = 1); 10.5->11.0 gains 25% (λ = 0.1)
    by_release = {"9.1": OLD, "10.5": OLD.copy(), "11.0": NEW}
    order = ["9.1", "10.5", "11.0"]
    lam, meta = choose_lambda("9.1", "coexpression", order, by_release, GENES, None)
    assert (lam, meta["lambda_source"], meta["fraction"]) == (1.0, "computed v9.1->v10.5", 0.0)
    lam, meta = choose_lambda("10.5", "coexpression", order, by_release, GENES, None)
    assert (lam, meta["lambda_source"], meta["fraction"]) == (0.1, "computed v10.5->v11.0", 0.25)
    lam, meta = choose_lambda("11.0", "coexpression", order, by_release, GENES, None)
    assert (lam, meta["lambda_source"], meta["fraction"]) == (0.1, "computed v10.5->v11.0", 0.25)


def test_choose_lambda_orders_releases_by_version_not_by_list_order():
    # A reversed list would compare v11.0 "against" v9.1: edges lost instead of gained, λ = 1.
    by_release = {"9.1": OLD, "10.5": OLD.copy(), "11.0": NEW}
    for order in (["11.0", "9.1"], ["11.0", "10.5", "9.1"]):
        lam, meta = choose_lambda("10.5" if "10.5" in order else "9.1", "coexpression", order,
                                  by_release, GENES, None)
        assert (lam, meta["fraction"]) == (0.1, 0.25), order
        assert meta["lambda_source"].endswith("->v11.0")
    with pytest.raises(ValueError, match="'v11' is not a version"):
        release_version("v11")


def test_lambda_mode_dango_uses_the_released_values_whatever_the_data():
    for channel, lam in (("coexpression", 0.1), ("experimental", 0.1), ("fusion", 1.0)):
        graph = build_network_graph(f"string_v9.1_{channel}", ["9.1", "11.0"], RELEASES,
                                    GENES, configured_lambda={channel: 0.5},
                                    lambda_mode="dango")
        assert graph.lam == lam and graph.meta["lambda_source"] == "DANGO's released values"
    assert set(DANGO_LAMBDA) == set(STRING_CHANNELS)


def test_one_release_without_configured_lambda_raises():
    message = r"λ for coexpression.*graphs\.lambda\.<channel> in the config"
    with pytest.raises(ValueError, match=message):
        build_network_graph("string_v9.1_coexpression", ["9.1"], {"9.1": OLD}, GENES)
    with pytest.raises(ValueError, match="λ cannot be computed"):
        build_network_graph("string_v9.1_coexpression", ["9.1"], {"9.1": OLD}, GENES,
                            configured_lambda={"experimental": 0.1})


def test_one_release_with_configured_lambda_uses_it():
    graph = build_network_graph("string_v9.1_coexpression", ["9.1"], {"9.1": OLD}, GENES,
                                configured_lambda={"coexpression": 0.3})
    assert graph.lam == 0.3 and graph.meta["lambda_source"] == "config"


def test_lambda_mode_one_and_config():
    graph = build_network_graph("string_v9.1_coexpression", ["9.1"], {"9.1": OLD}, GENES,
                                lambda_mode="one")
    assert graph.lam == 1.0 and "ablation" in graph.meta["lambda_source"]
    # config wins over the rule even with two releases (rule would give 0.1)
    graph = build_network_graph("string_v9.1_coexpression", ["9.1", "11.0"], RELEASES, GENES,
                                configured_lambda={"coexpression": 0.7}, lambda_mode="config")
    assert graph.lam == 0.7 and graph.meta["lambda_source"] == "config"
    assert "fraction" not in graph.meta
    with pytest.raises(ValueError, match="λ for coexpression"):
        build_network_graph("string_v9.1_coexpression", ["9.1", "11.0"], RELEASES, GENES,
                            lambda_mode="config")
    with pytest.raises(ValueError, match="unknown lambda mode"):
        build_network_graph("string_v9.1_coexpression", ["9.1", "11.0"], RELEASES, GENES,
                            lambda_mode="rules")


def test_build_network_graph_unknown_release_or_name():
    with pytest.raises(ValueError, match="release 12.0 is not among"):
        build_network_graph("string_v12.0_coexpression", ["9.1", "11.0"], RELEASES, GENES)
    with pytest.raises(ValueError, match="not a network name"):
        build_network_graph("string_v9.1_textmining", ["9.1", "11.0"], RELEASES, GENES)


def test_build_network_graph_counts_edges_outside_genes():
    qc = QCReport([])
    graph = build_network_graph("string_v11.0_coexpression", ["9.1", "11.0"], RELEASES,
                                [A, B, C, D, E], qc=qc)  # F not in the index: A-F dropped
    assert qc.counts["edges_outside_genes"] == 1 and qc.counts["edges_kept"] == 3
    assert graph.num_edges == 3 and graph.num_nodes == 5


# --- graph files -----------------------------------------------------------------------------

def test_write_read_graph_round_trip(tmp_path):
    graph = build_network_graph("string_v9.1_coexpression", ["9.1", "11.0"], RELEASES, GENES)
    path = tmp_path / "graphs" / "string_v9.1_coexpression.npz"
    write_graph(graph, path)
    back = read_graph(path, genes=GENES)
    assert back.name == graph.name and back.num_nodes == graph.num_nodes
    assert back.lam == graph.lam == 0.1
    assert back.meta == graph.meta
    assert back.edge_index.dtype == torch.long and back.weight.dtype == torch.float32
    assert torch.equal(back.edge_index, graph.edge_index)
    assert torch.equal(back.weight, graph.weight)
    assert read_graph(path).meta == graph.meta  # no gene check without genes
    assert not list(path.parent.glob(".*.tmp"))  # atomic write leaves no temporary file


def test_write_read_empty_graph(tmp_path):
    graph = NetworkGraph("string_v9.1_fusion", torch.zeros(2, 0, dtype=torch.long),
                         torch.zeros(0), num_nodes=3, lam=1.0)
    write_graph(graph, tmp_path / "g.npz")
    back = read_graph(tmp_path / "g.npz")
    assert tuple(back.edge_index.shape) == (2, 0) and back.num_edges == 0 and back.meta == {}


def test_read_graph_with_other_gene_index_raises(tmp_path):
    graph = build_network_graph("string_v9.1_coexpression", ["9.1", "11.0"], RELEASES, GENES)
    write_graph(graph, tmp_path / "g.npz")
    for other in ([B, A, C, D, E, F], GENES + [X], GENES[:-1]):
        with pytest.raises(InputFormatError, match="different gene index"):
            read_graph(tmp_path / "g.npz", genes=other)


def test_read_graph_rejects_non_graph_files(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(InputFormatError, match="not a geneint graph file"):
        read_graph(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("not numpy at all\n")
    with pytest.raises(InputFormatError, match="not a geneint graph file"):
        read_graph(tmp_path / "text.npz")
    with pytest.raises(InputFormatError, match="not a geneint graph file"):
        read_graph(tmp_path / "missing.npz")


# --- NetworkGraph validation -----------------------------------------------------------------

def _graph(edge_index, weight, num_nodes=3):
    return NetworkGraph("string_v9.1_fusion", edge_index, weight, num_nodes, 1.0)


def test_network_graph_validation():
    ok = torch.tensor([[0, 1], [1, 0]])
    assert _graph(ok, torch.ones(2)).num_edges == 1
    with pytest.raises(ValueError, match="int64"):
        _graph(ok.int(), torch.ones(2))
    with pytest.raises(ValueError, match="int64"):
        _graph(torch.tensor([[0, 1], [1, 0], [0, 0]]), torch.ones(2))
    with pytest.raises(ValueError, match="int64"):
        _graph(torch.tensor([0, 1]), torch.ones(2))
    with pytest.raises(ValueError, match="refers to node 3 but there are 3 genes"):
        _graph(torch.tensor([[0, 3], [3, 0]]), torch.ones(2))
    with pytest.raises(ValueError, match="weight has shape"):
        _graph(ok, torch.ones(3))
    with pytest.raises(ValueError, match="weight has shape"):
        _graph(ok, torch.ones(2, 1))
