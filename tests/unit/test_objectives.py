"""α schedules, the overflow-free log-cosh loss, and CSR adjacency rows."""

from __future__ import annotations

import math

import pytest
import torch

from geneint.graphs.adjacency import AdjacencyRows
from geneint.graphs.network import build_edge_index
from geneint.train.objectives import ALPHA_SCHEDULES, alpha_at, log_cosh

N = 10


# --- α schedules -----------------------------------------------------------------------------

@pytest.mark.parametrize("epoch", [0, N // 2, N, 2 * N])
def test_constant_schedule_returns_alpha(epoch):
    assert alpha_at("constant", epoch, alpha=0.001, alpha_epochs=N) == 0.001
    assert alpha_at("constant", epoch, alpha=0.3, alpha_epochs=N) == 0.3


@pytest.mark.parametrize("epoch, expected", [(0, 1.0), (N // 2, 0.75), (N, 0.5), (2 * N, 0.5),
                                             (1, 0.95), (N - 1, 0.55)])
def test_linear_until_uniform(epoch, expected):
    assert alpha_at("linear_until_uniform", epoch, alpha_epochs=N) == pytest.approx(expected)


@pytest.mark.parametrize("epoch, expected", [(0, 1.0), (N // 2, 1.0), (N - 1, 1.0), (N, 0.0),
                                             (2 * N, 0.0)])
def test_pre_then_post(epoch, expected):
    assert alpha_at("pre_then_post", epoch, alpha_epochs=N) == expected


def test_schedule_ignores_alpha_argument():
    assert alpha_at("linear_until_uniform", 0, alpha=0.001, alpha_epochs=N) == 1.0
    assert alpha_at("pre_then_post", N, alpha=0.7, alpha_epochs=N) == 0.0


def test_schedule_errors():
    with pytest.raises(ValueError, match="unknown alpha schedule"):
        alpha_at("cosine", 0, alpha_epochs=N)
    for schedule in ("linear_until_uniform", "pre_then_post"):
        with pytest.raises(ValueError, match="alpha_epochs >= 1"):
            alpha_at(schedule, 0, alpha_epochs=0)
    assert set(ALPHA_SCHEDULES) == {"constant", "linear_until_uniform", "pre_then_post"}


# --- log-cosh --------------------------------------------------------------------------------

def test_log_cosh_matches_naive_form_for_moderate_values():
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(500, generator=gen, dtype=torch.float64) * 3
    target = torch.randn(500, generator=gen, dtype=torch.float64) * 3
    naive = torch.log(torch.cosh(pred - target)).mean()
    # softplus switches to its linear branch above 20 (x < -10 here): error <= e^-20 ~ 2e-9
    assert torch.allclose(log_cosh(pred, target), naive, rtol=0, atol=1e-8)
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    elementwise = torch.stack([log_cosh(v.view(1), torch.zeros(1, dtype=x.dtype)) for v in x])
    assert torch.allclose(elementwise, torch.log(torch.cosh(x)), rtol=0, atol=1e-8)
    # float32 too, and 2-D inputs average over every entry
    p32, t32 = pred.float().view(50, 10), target.float().view(50, 10)
    assert torch.allclose(log_cosh(p32, t32), torch.log(torch.cosh(p32 - t32)).mean(),
                          rtol=1e-5, atol=1e-6)
    assert log_cosh(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_log_cosh_large_differences_stay_finite(dtype):
    x = torch.tensor([1000.0, -1000.0], dtype=dtype)
    assert torch.isinf(torch.log(torch.cosh(x))).all()  # the naive form overflows
    value = log_cosh(x, torch.zeros_like(x))
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(1000 - math.log(2), rel=1e-6)
    # gradient is tanh(x) = ±1, finite too
    pred = x.clone().requires_grad_(True)
    log_cosh(pred, torch.zeros_like(x)).backward()
    assert torch.allclose(pred.grad, torch.tensor([0.5, -0.5], dtype=dtype))


# --- adjacency rows --------------------------------------------------------------------------

def dense(edge_index: torch.Tensor, weight: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros(n, n)
    out[edge_index[0], edge_index[1]] = weight.float()
    return out


def random_graph(n: int, n_edges: int, isolated: set[int], seed: int):
    import pandas as pd

    gen = torch.Generator().manual_seed(seed)
    pairs = set()
    nodes = [i for i in range(n) if i not in isolated]
    while len(pairs) < n_edges:
        a, b = (nodes[int(i)] for i in torch.randint(len(nodes), (2,), generator=gen))
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    genes = [f"G{i:03d}" for i in range(n)]
    table = pd.DataFrame({"gene_a": [genes[a] for a, _ in sorted(pairs)],
                          "gene_b": [genes[b] for _, b in sorted(pairs)],
                          "channel": "coexpression",
                          "weight": torch.rand(n_edges, generator=gen).numpy() * 0.9 + 0.1})
    return build_edge_index(table, genes)


def test_adjacency_rows_equal_dense_rows():
    n, isolated = 12, {0, 5, 11}
    edge_index, weight = random_graph(n, 20, isolated, seed=1)
    adjacency = dense(edge_index, weight, n)
    assert all(adjacency[i].abs().sum() == 0 for i in isolated)
    rows_module = AdjacencyRows(edge_index, weight, n)
    for rows in ([3, 0, 7, 3, 11, 1, 1, 5, 2], list(range(n)), list(reversed(range(n))),
                 [5], [0, 0, 0], [4, 4, 9, 4]):
        rows_t = torch.tensor(rows)
        out = rows_module(rows_t)
        assert out.shape == (len(rows), n) and out.dtype == torch.float32
        assert torch.equal(out, adjacency[rows_t])


def test_adjacency_rows_hand_example_and_empty_inputs():
    # 0-1 (0.5), 1-2 (0.25), node 3 isolated; sorted by source but not required by target
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 2, 0, 1]])
    weight = torch.tensor([0.5, 0.25, 0.5, 0.25])
    rows = AdjacencyRows(edge_index, weight, 4)
    assert rows(torch.tensor([1, 3, 0])).tolist() == [[0.5, 0, 0.25, 0], [0, 0, 0, 0],
                                                      [0, 0.5, 0, 0]]
    assert rows(torch.tensor([], dtype=torch.long)).shape == (0, 4)
    empty = AdjacencyRows(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), 3)
    assert torch.equal(empty(torch.tensor([2, 0])), torch.zeros(2, 3))
    # buffers are not saved with the model
    assert rows.state_dict() == {}


def test_adjacency_rows_rejects_unsorted_edge_index():
    edge_index = torch.tensor([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="sorted by source"):
        AdjacencyRows(edge_index, torch.ones(2), 2)
