"""Graph sets (the sweep's ``graphs`` axis), directed network graphs, and the multigraph model."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from geneint.graphs import sets
from geneint.graphs.network import build_source_network_graph, read_graph, write_graph
from geneint.models.multigraph import HeteroGraph, MultiGraph, relations_reaching_genes
from geneint.schema import model_axes
from geneint.train.multigraph import gene_relations, metabolic_relations

CHANNELS = ["coexpression", "database"]


# --- graph sets ----------------------------------------------------------------------------
def test_a_graph_set_names_its_networks_and_sources_in_order():
    value = "string9.1+physical+regulatory+string12.0+metabolism"
    assert sets.networks(value, CHANNELS) == [
        "string_v9.1_coexpression", "string_v9.1_database", "physical", "regulatory",
        "string_v12.0_coexpression", "string_v12.0_database", "metabolism"]
    assert sets.string_releases(value) == ["9.1", "12.0"]
    assert sets.raw_sources(value) == ["biogrid", "regulation", "yeast_gem"]
    assert sets.has_metabolism(value) and not sets.has_metabolism("string9.1+tflink")


@pytest.mark.parametrize("bad", ["v9.1", "string9.1+", "string9.1+string9.1", "physical+ppi"])
def test_a_malformed_graph_set_is_refused_with_the_component_named(bad):
    with pytest.raises(ValueError, match="graph set"):
        sets.components(bad)


def test_the_sweep_schema_accepts_exactly_the_graph_sets_the_code_knows():
    assert model_axes("multigraph")["graphs"]["items"]["pattern"] == sets.GRAPH_SET_PATTERN


# --- directed networks ----------------------------------------------------------------------
def test_a_directed_network_is_symmetrised_and_keeps_its_directions(tmp_path):
    genes = ["YA", "YB", "YC", "YD"]
    table = pd.DataFrame({"gene_a": ["YA", "YB", "YA", "YC"], "gene_b": ["YB", "YA", "YC", "YZ"],
                          "network": "regulatory", "weight": [1.0, 0.5, 1.0, 1.0],
                          "directed": True})
    graph = build_source_network_graph("regulatory", table, genes)
    pairs = {tuple(e): int(d) for e, d in zip(graph.edge_index.T.tolist(),
                                              graph.direction.tolist(), strict=True)}
    # A<->B published both ways (2); A->C published (+1), its reverse added (-1); C->YZ has a
    # gene outside the index and is dropped.
    assert pairs == {(0, 1): 2, (1, 0): 2, (0, 2): 1, (2, 0): -1}
    assert graph.lam == 1.0 and graph.meta["directed"] and graph.num_edges == 2
    write_graph(graph, tmp_path / "regulatory.npz")
    again = read_graph(tmp_path / "regulatory.npz", genes)
    assert torch.equal(again.direction, graph.direction)
    assert again.directed_edges().T.tolist() == [[0, 1], [0, 2], [1, 0]]
    assert again.directed_edges(reverse=True).T.tolist() == [[0, 1], [1, 0], [2, 0]]


def test_a_source_network_takes_its_lambda_from_the_config_only_when_listed():
    genes = ["YA", "YB"]
    table = pd.DataFrame({"gene_a": ["YA"], "gene_b": ["YB"], "network": "physical",
                          "weight": [1.0], "directed": False})
    assert build_source_network_graph("physical", table, genes, {"physical": 0.1}).lam == 0.1
    assert build_source_network_graph("physical", table, genes, {"physical": 0.1},
                                      lambda_mode="one").lam == 1.0
    with pytest.raises(ValueError, match="no edges"):
        build_source_network_graph("genetic", table, genes)


# --- the model ------------------------------------------------------------------------------
def _cell_graph(n_genes: int = 30, seed: int = 0) -> HeteroGraph:
    g = torch.Generator().manual_seed(seed)

    def edges(a: int, b: int, n: int) -> torch.Tensor:
        return torch.stack([torch.randint(0, a, (n,), generator=g),
                            torch.randint(0, b, (n,), generator=g)])

    gpr = pd.DataFrame({"gene": [f"G{i}" for i in range(8)],
                        "reaction": ["R0", "R0", "R1", "R2", "R3", "R3", "R4", "R5"]})
    stoich = pd.DataFrame({"reaction": ["R0", "R0", "R1", "R2", "R3", "R4", "R5", "R5"],
                           "metabolite": ["m0", "m1", "m1", "m2", "m2", "m3", "m3", "m0"],
                           "coefficient": [-1.0, 1.0, -1.0, 1.0, -2.0, 1.0, -1.0, 1.0]})
    sizes, relations, attrs = metabolic_relations(gpr, stoich, [f"G{i}" for i in range(n_genes)])
    relations[("gene", "physical", "gene")] = edges(n_genes, n_genes, 120)
    attrs[("gene", "physical", "gene")] = torch.rand(120, 1, generator=g)
    return HeteroGraph({"gene": n_genes, **sizes}, relations, attrs)


def test_every_parameter_learns_and_each_relation_has_its_own_weights():
    torch.manual_seed(0)
    graph = _cell_graph()
    model = MultiGraph(graph.num_nodes, graph.relations, dim=16)
    genes = torch.tensor([[0, 1, 2], [3, 4, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    model.score(model.prepare(graph), genes, mask).square().sum().backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []
    convs = model.convs[0].convs
    weights = {r: conv.lin_l.weight for r, conv in convs.items()}
    assert len({id(w) for w in weights.values()}) == len(weights) == 4  # not into metabolites
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights.values())


def test_layers_keep_only_relations_whose_messages_reach_genes():
    relations = [("gene", "a", "gene"), ("gene", "gpr", "reaction"),
                 ("reaction", "gpr_reverse", "gene"),
                 ("metabolite", "stoichiometry", "reaction"),
                 ("reaction", "stoichiometry_reverse", "metabolite")]
    first, last = relations_reaching_genes(relations, 2)
    assert set(last) == {relations[0], relations[2]}
    assert set(first) == set(relations[:4])


def test_a_prediction_ignores_gene_order_and_padding():
    torch.manual_seed(1)
    graph = _cell_graph()
    model = MultiGraph(graph.num_nodes, graph.relations, dim=16).eval()
    state = model.prepare(graph)
    genes = torch.tensor([[5, 9, 2], [7, 3, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    y = model.score(state, genes, mask)
    shuffled = model.score(state, genes[:, [2, 0, 1]], mask[:, [2, 0, 1]])
    assert torch.allclose(y[0], shuffled[0], atol=1e-6)
    alone = model.score(state, torch.tensor([[7, 3]]), torch.tensor([[True, True]]))
    assert torch.allclose(y[1], alone[0], atol=1e-6)


def test_the_perturbed_cell_is_the_readout_without_the_perturbed_genes():
    torch.manual_seed(2)
    graph = _cell_graph()
    model = MultiGraph(graph.num_nodes, graph.relations, dim=16).eval()
    state = model.prepare(graph)
    genes, mask = torch.tensor([[4, 11, 17]]), torch.tensor([[True, True, True]])
    h = state["h"]
    weights = torch.softmax(model.readout(h).squeeze(-1), 0)
    keep = torch.ones(len(h), dtype=torch.bool)
    keep[genes[0]] = False
    rest = torch.softmax(model.readout(h[keep]).squeeze(-1), 0)
    expected = weights @ h - rest @ h[keep]
    assert torch.allclose(model.cell_difference(state, genes, mask)[0], expected, atol=1e-5)


def test_a_directed_network_becomes_two_relations(tmp_path):
    genes = ["YA", "YB", "YC"]
    table = pd.DataFrame({"gene_a": ["YA", "YA"], "gene_b": ["YB", "YC"], "network": "tflink",
                          "weight": [1.0, 1.0], "directed": True})
    undirected = table.assign(network="physical", directed=False)
    edges, _ = gene_relations([build_source_network_graph("tflink", table, genes),
                               build_source_network_graph("physical", undirected, genes)])
    assert edges[("gene", "tflink", "gene")].T.tolist() == [[0, 1], [0, 2]]
    assert edges[("gene", "tflink_reverse", "gene")].T.tolist() == [[1, 0], [2, 0]]
    assert edges[("gene", "physical", "gene")].size(1) == 4
