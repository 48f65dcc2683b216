"""CaTran and the network baselines: masking, attention, the gene-importance loss, edge
selection and orientation, and seeded, reproducible training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geneint.models.catran import CaTran, hide_genes, interventional_loss, reconstruction_loss
from geneint.models.grn_baselines import correlation_scores, random_network
from geneint.models.network_edges import (
    catran_scores,
    knockdown_effects,
    orient_pairs,
    select_edges,
    top_pairs,
)


def test_hiding_shuffles_a_fixed_fraction_of_each_cells_genes():
    torch.manual_seed(0)
    x = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    masked, hidden = hide_genes(x, 0.8, None)
    assert (hidden.sum(1) == 8).all()
    assert torch.equal(masked[~hidden], x[~hidden])                    # visible genes untouched
    assert torch.equal(masked[hidden].sort().values, x[hidden].sort().values)  # a permutation
    assert not torch.equal(masked[hidden], x[hidden])


def test_attention_is_symmetric_and_the_graph_is_read_from_the_softmax():
    torch.manual_seed(0)
    model = CaTran(n_genes=7, embedding_dim=5, blocks=3)
    genes = torch.tensor([0, 2, 3, 6])
    prediction, attention = model(torch.randn(16, 4), genes)
    assert prediction.shape == (16, 4) and attention.shape == (4, 4)
    assert torch.allclose(attention, attention.T) and ((attention > 0) & (attention < 1)).all()
    adjacency = model.adjacency()
    assert adjacency.shape == (7, 7) and np.allclose(adjacency.sum(1), 1)
    scores = catran_scores(adjacency)
    assert np.allclose(np.diag(scores), 0) and np.allclose(scores, scores.T)
    assert scores[1, 4] == max(adjacency[1, 4], adjacency[4, 1])


def test_the_blocks_share_one_set_of_weights():
    model = CaTran(n_genes=5, embedding_dim=4, blocks=11)
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == sum(p.numel() for p in CaTran(5, 4, blocks=1).parameters())
    # The original's size formula: a fixed part plus embedding_dim per gene.
    assert sum(p.numel() for p in CaTran(6, 4).parameters()) - parameters == 4


def test_gene_importance_loss_by_hand():
    prediction = torch.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    expression = torch.tensor([[1.5, 2.0], [1.5, 2.0], [0.0, 1.0], [0.0, 1.0]])
    attention = torch.tensor([[0.5, 0.2], [0.2, 0.5]], requires_grad=True)
    knocked_down = torch.tensor([0, 0, -1, -1])   # gene 0 knocked down in cells 0 and 1
    # Huber errors: knocked-down cells (0.125, 0), other cells (0, 0.5).
    m1 = torch.tensor([0.125, 0.0])
    m2 = torch.tensor([0.0, 0.5])
    target = torch.sigmoid(m2 / m1.clamp_min(1e-8) - 1)
    expected = ((attention[:, 0] - target) ** 2).mean() / (2 - 1)
    loss = interventional_loss(prediction, expression, attention, knocked_down)
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert attention.grad[:, 1].abs().sum() == 0          # only knocked-down genes' columns
    assert interventional_loss(prediction, expression, attention,
                               torch.tensor([-1, -1, -1, -1])).item() == 0


def test_reconstruction_weighs_hidden_and_visible_genes():
    prediction = torch.zeros(2, 2)
    expression = torch.tensor([[1.0, 3.0], [1.0, 3.0]])
    hidden = torch.tensor([[True, False], [True, False]])
    assert reconstruction_loss(prediction, expression, hidden, 0.4).item() == pytest.approx(
        0.5 + 0.4 * 2.5)


def test_top_pairs_and_orientations():
    scores = np.array([[0, 5, 1, 2], [5, 0, 4, 0], [1, 4, 0, 3], [2, 0, 3, 0]], dtype=float)
    rows, cols = top_pairs(scores, 3)
    assert list(zip(rows, cols)) == [(0, 1), (1, 2), (2, 3)]
    gene_order = orient_pairs(rows, cols, scores, "gene_order")
    assert list(zip(gene_order.sources, gene_order.targets)) == [(0, 1), (1, 2), (2, 3)]
    both = select_edges(scores, 4, "both")
    assert list(zip(both.sources, both.targets)) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    effects = np.full((4, 4), np.nan)
    effects[1, 0], effects[0, 1] = 2.0, 0.1       # knocking 1 down moves 0: 1 → 0
    effects[2, 3] = 0.05                          # knocking 2 down leaves 3 alone: 3 → 2
    effects[2, 0] = 1.0                           # (sets the median of all effects: 0.1)
    asymmetry = np.zeros((4, 4))
    asymmetry[2, 1] = 1.0                         # [target, source]: 1 → 2 by the model
    edges = orient_pairs(rows, cols, scores, "interventional", effects, asymmetry)
    assert list(zip(edges.sources, edges.targets)) == [(1, 0), (1, 2), (3, 2)]
    with pytest.raises(ValueError, match="unknown orientation"):
        orient_pairs(rows, cols, scores, "alphabetical")


def test_knockdown_effects_are_standardised_shifts():
    expression = np.array([[1.0, 2.0], [3.0, 4.0], [2.0, 10.0], [2.0, 12.0]])
    effects = knockdown_effects(expression, np.array([-1, -1, 0, 0]))
    assert effects[0, 1] == pytest.approx(abs(11.0 - 3.0) / 1.0)
    assert np.isnan(effects[1]).all()


def test_random_network_is_causalbenchs():
    edges = random_network(12, 30, seed=3)
    assert len(set(zip(edges.sources, edges.targets))) == 30
    assert (edges.sources != edges.targets).all()
    pytest.importorskip("causalscbench")
    from causalscbench.models.random_network import RandomWithSize

    names = [f"G{i}" for i in range(12)]
    theirs = RandomWithSize(30)(None, None, names, None, seed=3)
    assert set(theirs) == {(names[a], names[b]) for a, b in zip(edges.sources, edges.targets)}
    with pytest.raises(ValueError, match="which have 12"):
        random_network(4, 13, seed=0)


def test_correlation_scores():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    x[:, 1] = -2 * x[:, 0] + 0.1 * rng.normal(size=50)
    x = np.column_stack([x, np.ones(50)])            # a constant gene: no correlation
    pearson = correlation_scores(x, "pearson")
    assert pearson[0, 1] == pytest.approx(abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]))
    assert pearson[3].sum() == 0 and np.diag(pearson).sum() == 0
    x[:, 2] = np.exp(x[:, 0])                         # monotone: Spearman 1
    assert correlation_scores(x, "spearman")[0, 2] == pytest.approx(1.0)


def _toy_training_data(seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["non-targeting"] * 60 + ["G0"] * 30 + ["G1"] * 30)
    knocked_down = np.array([-1] * 60 + [0] * 30 + [1] * 30)
    expression = rng.normal(size=(120, 5)).astype(np.float32)
    expression[knocked_down == 0, 2] += 2.0
    return expression, knocked_down, labels


def test_training_is_seeded(tmp_path):
    from geneint.train.catran import CaTranSettings, train_catran

    settings = CaTranSettings(embedding_dim=4, blocks=2, epochs=2, batch_size=40,
                              cells_per_class=10, lr=1e-3)
    expression, knocked_down, labels = _toy_training_data()
    first = train_catran(expression, knocked_down, labels, settings, 3, tmp_path / "a")
    second = train_catran(expression, knocked_down, labels, settings, 3, tmp_path / "b")
    other = train_catran(expression, knocked_down, labels, settings, 4, tmp_path / "c")
    assert np.array_equal(first.adjacency(), second.adjacency())
    assert not np.array_equal(first.adjacency(), other.adjacency())
    assert (tmp_path / "a" / "metrics.csv").exists()


def test_m_per_class_batches():
    from geneint.train.catran import CaTranSettings, batches

    expression, knocked_down, labels = _toy_training_data()
    loader = batches(expression, knocked_down, labels,
                     CaTranSettings(batch_size=2048, cells_per_class=10), seed=0)
    batch = next(iter(loader))
    assert len(batch[0]) == 30                        # 3 classes × 10 cells
    assert sorted(np.unique(batch[1].numpy(), return_counts=True)[1]) == [10, 10, 10]
    single = batches(expression[:60], knocked_down[:60], labels[:60],
                     CaTranSettings(batch_size=16, cells_per_class=10), seed=0)
    assert len(next(iter(single))[0]) == 16           # one class: plain shuffled batches
