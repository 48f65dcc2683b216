"""hetero_sagpool: batched perturbed samples equal PyG's per-sample k_hop_subgraph + subgraph;
13 SAGPooling rounds shrink every graph as ⌈0.8·N⌉ and stop at one node; each relation has its
own weights; pooled edges keep their relation; node order and batch mates change nothing; the
interaction classes and the classification metrics every model is scored with."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.utils import k_hop_subgraph, subgraph, to_undirected

from geneint.data.interaction_classes import InteractionClasses, balanced_class_weights
from geneint.evaluate.evaluate import classification_block
from geneint.evaluate.metrics import classification_metrics
from geneint.graphs.perturbation import CellGraph, perturbed_samples
from geneint.models.hetero_sagpool import HeteroSAGPool
from geneint.report.tables import by_point
from geneint.train.objectives import selection_macro_f1


def random_cell_graph(num_genes: int = 60, seed: int = 0) -> CellGraph:
    g = torch.Generator().manual_seed(seed)
    ppi = torch.randint(0, num_genes, (2, 4 * num_genes), generator=g)
    ppi = to_undirected(ppi[:, ppi[0] != ppi[1]])
    reg = torch.randint(0, num_genes, (2, 2 * num_genes), generator=g)
    reg = torch.unique(reg[:, reg[0] != reg[1]], dim=1)  # directed TF -> target
    return CellGraph.from_relations(num_genes, {"ppi": ppi, "reg": reg})


def sets(num_genes: int, batch: int = 6, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    genes = torch.stack([torch.randperm(num_genes, generator=g)[:3] for _ in range(batch)])
    mask = torch.ones_like(genes, dtype=torch.bool)
    mask[0, 2] = False  # a pair among triples
    return genes, mask


@pytest.mark.parametrize("scope,hops,perturbed", [("khop", 1, "flag"), ("khop", 2, "remove"),
                                                  ("whole", 1, "flag"), ("whole", 1, "remove")])
def test_batched_samples_equal_pyg_k_hop_subgraph_per_set(scope, hops, perturbed):
    graph = random_cell_graph()
    genes, mask = sets(graph.num_genes)
    batch = perturbed_samples(graph, genes, mask, scope, hops, perturbed)
    both = torch.cat([graph.edge_index, graph.edge_index.flip(0)], dim=1)
    for b in range(len(genes)):
        seeds = genes[b][mask[b]]
        subset = (k_hop_subgraph(seeds, hops, both, num_nodes=graph.num_genes)[0]
                  if scope == "khop" else torch.arange(graph.num_genes))
        if perturbed == "remove":
            subset = subset[~torch.isin(subset, seeds)]
        edges, relation = subgraph(subset, graph.edge_index, graph.relation,
                                   num_nodes=graph.num_genes)
        mine = batch.batch == b
        assert sorted(batch.gene[mine].tolist()) == sorted(subset.tolist())
        assert batch.perturbed[mine].sum() == (len(seeds) if perturbed == "flag" else 0)
        in_b = batch.batch[batch.edge_index[0]] == b
        got = set(zip(batch.gene[batch.edge_index[0, in_b]].tolist(),
                      batch.gene[batch.edge_index[1, in_b]].tolist(),
                      batch.relation[in_b].tolist(), strict=True))
        assert got == set(zip(*edges.tolist(), relation.tolist(), strict=True))


def iterated_sizes(n: int, ratio: float, rounds: int) -> list[int]:
    sizes = []
    for _ in range(rounds):
        n = math.ceil(ratio * n)
        sizes.append(n)
        if n <= 1:
            break
    return sizes


def whole_graph_pass(model: HeteroSAGPool, graph: CellGraph, genes, mask):
    sample = perturbed_samples(graph, genes, mask, "whole", 1, "flag")
    x = model.node_features(graph, sample.gene, sample.perturbed)
    return model.classify(x, sample.edge_index, sample.relation, sample.batch,
                          sample.num_samples)


def test_thirteen_rounds_keep_ceil_ratio_nodes_and_stop_at_one_node():
    torch.manual_seed(0)
    graph = random_cell_graph(200)
    genes, mask = sets(200, batch=2)
    model = HeteroSAGPool(200, graph.relations, scope="whole")
    _, sizes = whole_graph_pass(model, graph, genes, mask)
    assert len(sizes) == 13
    assert [int(s[0]) for s in sizes] == iterated_sizes(200, 0.8, 13)
    assert int(sizes[-1][0]) == 13  # ⌈⌉ each round: a little above 200 · 0.8¹³ ≈ 11
    # A steeper ratio reaches one node before the last round: the loop stops there.
    steep = HeteroSAGPool(200, graph.relations, ratio=0.25, scope="whole")
    _, sizes = whole_graph_pass(steep, graph, genes, mask)
    assert [int(s[0]) for s in sizes] == iterated_sizes(200, 0.25, 13) == [50, 13, 4, 1]


def test_each_relation_has_its_own_weights():
    torch.manual_seed(0)
    graph = random_cell_graph()
    genes, mask = sets(graph.num_genes)
    model = HeteroSAGPool(graph.num_genes, graph.relations, num_layers=3)
    logits = model.score(graph, genes, mask)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 0, 1, 2])).backward()
    first = model.convs[0].convs
    ppi, reg = first[("gene", "ppi", "gene")], first[("gene", "reg", "gene")]
    assert ppi.lin.weight is not reg.lin.weight
    assert ppi.lin.weight.grad.abs().sum() > 0 and reg.lin.weight.grad.abs().sum() > 0
    assert not torch.allclose(ppi.lin.weight.grad, reg.lin.weight.grad)
    # The relation of an edge matters: relabelling every edge as the other relation changes
    # the prediction.
    swapped = CellGraph.from_relations(graph.num_genes, {
        "ppi": graph.edge_index[:, graph.relation == 1],
        "reg": graph.edge_index[:, graph.relation == 0]})
    with torch.no_grad():
        assert not torch.allclose(model.score(graph, genes, mask),
                                  model.score(swapped, genes, mask))


def test_pooled_edges_keep_their_relation():
    torch.manual_seed(0)
    graph = random_cell_graph()
    genes, mask = sets(graph.num_genes)
    model = HeteroSAGPool(graph.num_genes, graph.relations)
    sample = perturbed_samples(graph, genes, mask, "khop", 2, "flag")
    known = set(zip(sample.edge_index[0].tolist(), sample.edge_index[1].tolist(),
                    sample.relation.tolist(), strict=True))
    x = model.node_features(graph, sample.gene, sample.perturbed)
    edge_index, relation, batch, node = sample.edge_index, sample.relation, sample.batch, \
        torch.arange(len(sample.gene))
    for pool in model.pools[:4]:
        x, edge_index, relation, batch, perm, _ = pool(x, edge_index, relation, batch)
        node = node[perm]  # positions in the sample of the surviving nodes
        assert len(edge_index[0]) > 0
        survived = set(zip(node[edge_index[0]].tolist(), node[edge_index[1]].tolist(),
                           relation.tolist(), strict=True))
        assert survived <= known
        # Every edge between surviving nodes survives, with its relation.
        kept = set(node.tolist())
        assert survived == {e for e in known if e[0] in kept and e[1] in kept}


def test_node_order_and_batch_mates_do_not_change_a_prediction():
    torch.manual_seed(0)
    graph = random_cell_graph()
    genes, mask = sets(graph.num_genes)
    model = HeteroSAGPool(graph.num_genes, graph.relations).eval()
    perm = torch.randperm(graph.num_genes)  # old gene i becomes perm[i]
    relabelled = CellGraph.from_relations(graph.num_genes, {
        name: perm[graph.edge_index[:, graph.relation == i]]
        for i, name in enumerate(graph.relations)})
    moved = HeteroSAGPool(graph.num_genes, graph.relations).eval()
    moved.load_state_dict(model.state_dict())
    with torch.no_grad():
        moved.embedding.weight[perm] = model.embedding.weight
        expected = model.score(graph, genes, mask)
        assert torch.allclose(moved.score(relabelled, perm[genes], mask), expected, atol=1e-5)
        alone = torch.cat([model.score(graph, genes[i:i + 1], mask[i:i + 1])
                           for i in range(len(genes))])
        assert torch.allclose(alone, expected, atol=1e-5)
        # Gene order within a set and padding change nothing either.
        assert torch.allclose(model.score(graph, genes.flip(-1), mask.flip(-1)), expected,
                              atol=1e-5)


def test_a_sample_without_nodes_gets_the_empty_readout():
    graph = CellGraph.from_relations(5, {"ppi": torch.tensor([[0, 1], [1, 0]])})
    model = HeteroSAGPool(5, graph.relations, perturbed="remove")
    genes, mask = torch.tensor([[3, 4], [0, 2]]), torch.ones(2, 2, dtype=torch.bool)
    logits = model.score(graph, genes, mask)  # set 0: isolated genes, removed: no nodes
    assert torch.allclose(logits[0], model.classifier.bias)
    assert torch.isfinite(logits).all()


def test_classes_follow_the_strong_cut_offs_per_arity():
    classes = InteractionClasses.from_config(0.05, {2: 0.08})
    tau = torch.tensor([-0.06, -0.05, 0.05, 0.051, -0.06, 0.079, 0.081])
    arity = torch.tensor([3, 3, 3, 3, 2, 2, 2])
    assert classes.labels(tau, arity).tolist() == [0, 1, 1, 2, 1, 1, 2]
    inside = torch.tensor([-0.06, 0.01, 0.051, 0.07, -0.09])  # away from the edges
    inside_arity = torch.tensor([3, 3, 3, 2, 2])
    assert (classes.scores(inside, inside_arity).argmax(-1).tolist()
            == classes.labels(inside, inside_arity).tolist() == [0, 1, 2, 1, 0])
    five = InteractionClasses.from_config(0.05, class_edges=[-0.1, -0.05, 0.05, 0.1])
    assert five.names == ("bin0", "bin1", "bin2", "bin3", "bin4")
    assert five.labels(torch.tensor([-0.2, -0.07, 0.0, 0.07, 0.2]),
                       torch.full((5,), 3)).tolist() == [0, 1, 2, 3, 4]
    assert InteractionClasses.from_json(classes.to_json()) == classes
    with pytest.raises(ValueError, match="must increase"):
        InteractionClasses.from_config(0.05, class_edges=[0.1, -0.1])
    assert balanced_class_weights(torch.tensor([0, 1, 1, 1]), 3) == [2.0, 2 / 3, 0.0]


def test_classification_metrics_match_a_hand_count():
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    predicted = torch.tensor([0, 1, 1, 1, 0, 1])
    scores = torch.nn.functional.one_hot(predicted, 3).double()
    out = classification_metrics(labels, predicted, scores, ("negative", "neutral", "positive"))
    assert out["accuracy"] == pytest.approx(3 / 6)
    # F1: negative P 1/2 R 1/2 → 1/2; neutral P 2/4 R 2/3 → 4/7; positive 0.
    assert out["f1_negative"] == pytest.approx(0.5)
    assert out["f1_neutral"] == pytest.approx(4 / 7)
    assert out["macro_f1"] == pytest.approx((0.5 + 4 / 7 + 0) / 3)
    assert out["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert out["confusion"] == [[1, 1, 0], [1, 2, 0], [0, 1, 0]]
    assert out["fraction_positive"] == pytest.approx(1 / 6)
    # Positive: predicted for no set, so its score is constant: AUROC 0.5.
    assert out["auroc_positive"] == pytest.approx(0.5)
    # Negative: its scores 1, 0 against 0, 0, 1, 0 (ties count half): (3.5 + 1.5) / 8.
    assert out["auroc_negative"] == pytest.approx(5 / 8)
    assert selection_macro_f1(predicted, labels, 3) == pytest.approx(out["macro_f1"])


def test_regression_models_and_classifiers_are_scored_on_the_same_classes():
    classes = InteractionClasses.from_config(0.05)
    frame = pd.DataFrame({"tau": [-0.2, -0.1, 0.0, 0.01, 0.2, 0.1],
                          "tau_pred": [-0.1, 0.0, 0.0, -0.08, 0.06, 0.0],
                          "arity": np.full(6, 3)})
    regression = classification_block(frame, classes)
    assert regression["confusion"] == [[1, 1, 0], [1, 1, 0], [0, 1, 1]]
    # Ranking by τ̂: the negative class is ordered by −τ̂, positives by τ̂.
    assert regression["auroc_negative"] == pytest.approx(6 / 8)
    probs = np.array([[0.8, 0.1, 0.1]] * 2 + [[0.1, 0.8, 0.1]] * 2 + [[0.1, 0.1, 0.8]] * 2)
    classifier = classification_block(
        frame.assign(**{f"prob_{c}": probs[:, i] for i, c in enumerate(classes.names)}), classes)
    assert classifier["accuracy"] == 1.0 and classifier["macro_auroc"] == 1.0
    constant = classification_block(frame.assign(tau_pred=0.0), classes)  # the mean baseline
    assert constant["macro_f1"] == pytest.approx((0 + 2 * (2 / 6) / (1 + 2 / 6) + 0) / 3)
    assert constant["auroc_neutral"] == 0.5


def test_class_fractions_are_data_metrics_of_the_point_summary():
    summary = pd.DataFrame({"model": ["a", "a"], "split": ["s", "s"], "seed": ["0", "1"],
                            "test_fraction_negative": [0.2, 0.2], "test_macro_f1": [0.4, 0.6]})
    points = by_point(summary)
    assert points["test_fraction_negative"].iloc[0] == 0.2
    assert points["test_macro_f1_mean"].iloc[0] == pytest.approx(0.5)


def test_fixed_features_replace_the_learned_embedding():
    torch.manual_seed(0)
    graph = random_cell_graph()
    genes, mask = sets(graph.num_genes)
    model = HeteroSAGPool(graph.num_genes, graph.relations, feature_dim=8, num_layers=2)
    assert not hasattr(model, "embedding")
    with pytest.raises(ValueError, match="fixed gene features"):
        model.prepare(graph)
    featured = CellGraph.from_relations(graph.num_genes, {
        name: graph.edge_index[:, graph.relation == i] for i, name in enumerate(graph.relations)},
        features=torch.randn(graph.num_genes, 8))
    logits = model.score(model.prepare(featured), genes, mask)
    logits.sum().backward()
    assert model.features.weight.grad.abs().sum() > 0
    featured.features[genes[1, 0]] += 1.0  # a set's gene features change its prediction
    assert not torch.allclose(model.score(featured, genes, mask)[1], logits[1])


def test_the_features_option_and_the_embedding_files_must_agree(tmp_path):
    from geneint.train.hetero_sagpool import HeteroSAGPoolOptions, feature_files
    from geneint.train.sets import TrainingInputs

    inputs = TrainingInputs("i", "g", "s", 0, tmp_path)
    with pytest.raises(ValueError, match="needs --embeddings"):
        feature_files(inputs, HeteroSAGPoolOptions.defaults(features="pretrained"))
    inputs.pretrained = [tmp_path / "embeddings.pt"]
    with pytest.raises(ValueError, match="only with --features pretrained"):
        feature_files(inputs, HeteroSAGPoolOptions.defaults())
    assert HeteroSAGPoolOptions.defaults().features == "learned"


def test_probabilities_are_corrected_for_the_class_weights_of_training():
    from geneint.train.set_classification import SetClassification

    graph = random_cell_graph()
    model = HeteroSAGPool(graph.num_genes, graph.relations, num_layers=2)
    module = SetClassification(model, "hetero_sagpool", {},
                               InteractionClasses.from_config(0.05).to_json(),
                               class_weights=[2.0, 0.5, 0.0], class_tau=[-0.1, 0.0, 0.1])
    logits = torch.tensor([[0.0, 0.0, 0.0], [math.log(2.0), math.log(0.5), 5.0]])
    prob = module.calibrated(logits)
    # p ∝ exp(logit) / w: equal logits favour the down-weighted (frequent) class 4:1; a class
    # absent from training (weight 0) is never predicted.
    assert prob[0].tolist() == pytest.approx([0.2, 0.8, 0.0])
    assert prob[1].tolist() == pytest.approx([0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="3 classes, 2 class weights"):
        SetClassification(model, "hetero_sagpool", {},
                          InteractionClasses.from_config(0.05).to_json(), [1.0, 1.0], [0, 0])


def test_a_neighbour_limit_keeps_a_fixed_subset_of_each_genes_neighbours():
    graph = random_cell_graph()
    rowptr, col = graph.neighbourhood(3)
    full = graph.undirected_rowptr[1:] - graph.undirected_rowptr[:-1]
    assert torch.equal(rowptr[1:] - rowptr[:-1], full.clamp(max=3))
    for gene in range(graph.num_genes):
        kept = set(col[rowptr[gene]:rowptr[gene + 1]].tolist())
        assert kept <= set(graph.undirected_col[graph.undirected_rowptr[gene]:
                                                graph.undirected_rowptr[gene + 1]].tolist())
    genes, mask = sets(graph.num_genes)
    capped = perturbed_samples(graph, genes, mask, "khop", 1, "flag", neighbours=3)
    again = perturbed_samples(random_cell_graph(), genes, mask, "khop", 1, "flag", neighbours=3)
    assert torch.equal(capped.gene, again.gene)  # the same sample every time
    assert (torch.bincount(capped.batch) <= 3 + 3 * 3).all()
    assert len(capped.gene) < len(perturbed_samples(graph, genes, mask, "khop", 1, "flag").gene)
