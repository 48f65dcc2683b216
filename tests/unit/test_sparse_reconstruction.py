"""The exact sparse reconstruction loss equals the dense reference: loss and gradients."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from geneint.graphs.adjacency import AdjacencyRows
from geneint.models.layers import (
    ReconstructionHead,
    weighted_mse,
    weighted_mse_original,
    weighted_mse_sparse,
)
from geneint.train.reconstruction import NetworkReconstruction, reconstruction_loss

DENSE = {"spec": weighted_mse, "original": weighted_mse_original}


def random_adjacency(num_genes: int, edges: int, seed: int) -> AdjacencyRows:
    """A symmetric weighted graph with one isolated gene and one gene linked to all others."""
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.randint(0, num_genes - 1, (2, edges), generator=gen)
    hub = torch.stack([torch.full((num_genes - 1,), num_genes - 2), torch.arange(num_genes - 1)])
    pairs = torch.cat([pairs, hub], 1)
    pairs = pairs[:, pairs[0] != pairs[1]]
    pairs = torch.unique(torch.cat([pairs, pairs.flip(0)], 1), dim=1)  # sorted by source
    weight = torch.rand(pairs.shape[1], generator=gen, dtype=torch.float64) + 0.05
    adjacency = AdjacencyRows(pairs, weight, num_genes)
    adjacency.weight = weight  # keep float64 for the comparison
    return adjacency


@pytest.mark.parametrize("form", ["spec", "original"])
@pytest.mark.parametrize("hidden", [None, 16])
def test_sparse_loss_and_gradients_equal_the_dense_reference(form, hidden):
    torch.manual_seed(0)
    num_genes, dim = 120, 12
    adjacency = random_adjacency(num_genes, 900, seed=1)
    head = ReconstructionHead(dim, num_genes, hidden=hidden, activation="swish").double()
    h = torch.randn(40, dim, dtype=torch.float64, requires_grad=True)
    # The isolated gene (num_genes - 1), the hub (num_genes - 2), repeats, and random rows.
    rows = torch.cat([torch.tensor([num_genes - 1, num_genes - 2, 3, 3]),
                      torch.randint(0, num_genes, (36,))])
    params = [h, *head.parameters()]

    sparse = reconstruction_loss(head, h, adjacency, rows, 0.1, form, "sparse")
    dense = DENSE[form](head(h), adjacency(rows), 0.1)
    torch.testing.assert_close(sparse, dense, rtol=1e-10, atol=0)
    for g_sparse, g_dense in zip(torch.autograd.grad(sparse, params),
                                 torch.autograd.grad(dense, params), strict=True):
        torch.testing.assert_close(g_sparse, g_dense, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("form", ["spec", "original"])
def test_float32_dense_and_nearly_dense_rows_match_the_dense_loss(form):
    """‖Wf+b‖² − Σ x_nz² cancels on dense rows: large predictions, targets close to them."""
    torch.manual_seed(0)
    num_cols, dim = 2000, 64
    out = torch.nn.Linear(dim, num_cols)
    with torch.no_grad():
        out.weight.mul_(20.0)
        out.bias.fill_(5.0)
    features = torch.randn(8, dim)
    pred = out(features).detach()
    target = pred + 1e-3 * torch.randn_like(pred)
    target[4:, :3] = 0.0  # rows 4-7 have three zero entries; rows 0-3 none
    owner, col = target.nonzero(as_tuple=True)
    for rows in (slice(0, 4), slice(4, 8), slice(0, 8)):
        keep = (owner >= rows.start) & (owner < rows.stop)
        sparse = weighted_mse_sparse(features[rows], out, owner[keep] - rows.start, col[keep],
                                     target[owner[keep], col[keep]], 0.1, form)
        dense = DENSE[form](out(features[rows]), target[rows], 0.1)
        assert sparse.item() >= 0
        torch.testing.assert_close(sparse, dense, rtol=1e-3, atol=1e-9)


def test_explicit_zero_targets_count_as_no_edge():
    out = torch.nn.Linear(4, 6).double()
    features = torch.randn(2, 4, dtype=torch.float64)
    owner, col = torch.tensor([0, 0, 1]), torch.tensor([1, 3, 5])
    value = torch.tensor([0.5, 0.0, 0.7], dtype=torch.float64)
    dense_target = torch.zeros(2, 6, dtype=torch.float64)
    dense_target[owner, col] = value
    for form, dense in DENSE.items():
        torch.testing.assert_close(
            weighted_mse_sparse(features, out, owner, col, value, 0.3, form),
            dense(out(features), dense_target, 0.3))


def test_unknown_forms_are_rejected():
    with pytest.raises(ValueError, match="form"):
        weighted_mse_sparse(torch.zeros(1, 2), torch.nn.Linear(2, 3), torch.tensor([0]),
                            torch.tensor([0]), torch.tensor([1.0]), 0.1, form="mean")


def test_sampled_product_backward_passes_gradcheck():
    """The hand-written backward of the sampled product (two sparse-dense products) against
    finite differences, with an empty row and a column hit by several rows."""
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    weight = torch.randn(7, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    bias = torch.randn(7, dtype=torch.float64, generator=gen, requires_grad=True)
    owner, col = torch.tensor([0, 0, 2, 2, 3]), torch.tensor([1, 6, 1, 4, 1])
    value = torch.rand(5, dtype=torch.float64, generator=gen) + 0.1

    def loss(features, weight, bias):
        out = SimpleNamespace(weight=weight, bias=bias)  # all the loss reads of a Linear
        return weighted_mse_sparse(features, out, owner, col, value, 0.3)

    assert torch.autograd.gradcheck(loss, (features, weight, bias))


def test_network_reconstruction_sums_or_averages_over_networks():
    torch.manual_seed(0)
    num_genes, dim = 30, 6
    adjacencies = [random_adjacency(num_genes, 60, seed=s) for s in (1, 2)]
    heads = [ReconstructionHead(dim, num_genes).double() for _ in adjacencies]
    model = SimpleNamespace(recon_heads=heads)
    state = {"node_embeddings": torch.randn(2, num_genes, dim, dtype=torch.float64)}
    graphs = SimpleNamespace(targets=adjacencies)
    losses = {}
    for reduction in ("mean", "sum"):
        torch.manual_seed(1)  # the same sampled rows
        losses[reduction] = NetworkReconstruction([0.1, 1.0], 10, reduction=reduction)(
            model, state, graphs)
    torch.testing.assert_close(losses["sum"], 2 * losses["mean"])
    with pytest.raises(ValueError, match="reduction 'max'"):
        NetworkReconstruction([0.1], reduction="max")
