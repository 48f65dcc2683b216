"""DANGO model: shapes, set handling, ReZero, gradient flow, losses, the original variant."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from geneint.models.dango import Dango
from geneint.models.layers import (
    HyperSAGNN,
    MetaEmbedding,
    NetworkEncoder,
    ReconstructionHead,
    SetSelfAttention,
    activation_from_name,
    weighted_mse,
    weighted_mse_original,
)
from geneint.models.layers.folded import FoldedHyperSAGNN

NUM_GENES, NUM_NETWORKS, DIM = 20, 2, 16


def random_graph(num_nodes: int, num_edges: int, generator: torch.Generator) -> torch.Tensor:
    """A symmetric random edge_index without self-loops."""
    src = torch.randint(0, num_nodes, (num_edges,), generator=generator)
    dst = torch.randint(0, num_nodes, (num_edges,), generator=generator)
    keep = src != dst
    edge_index = torch.stack([src[keep], dst[keep]])
    return torch.unique(torch.cat([edge_index, edge_index.flip(0)], dim=1), dim=1)


def complete_graph(num_nodes: int) -> torch.Tensor:
    src, dst = torch.meshgrid(torch.arange(num_nodes), torch.arange(num_nodes), indexing="ij")
    keep = src != dst
    return torch.stack([src[keep], dst[keep]])


def log_cosh(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    diff = pred - target
    return (diff + nn.functional.softplus(-2 * diff) - math.log(2)).mean()


def set_rezero(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, SetSelfAttention):
                layer.beta.fill_(value)


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny tensors: intra-op threads only add contention (10x slower on a busy 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def graphs() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [random_graph(NUM_GENES, 60, generator) for _ in range(NUM_NETWORKS)]


@pytest.fixture
def sets() -> tuple[torch.Tensor, torch.Tensor]:
    """Two triples and two pairs, padded to S = 3 with index 0."""
    genes = torch.tensor([[1, 2, 3], [4, 5, 0], [6, 7, 8], [9, 10, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False],
                         [True, True, True], [True, True, False]])
    return genes, mask


# --- shapes -----------------------------------------------------------------------------------


def test_network_encoder_shapes(graphs):
    encoder = NetworkEncoder(DIM)
    x = torch.randn(NUM_GENES, DIM)
    assert encoder(x, graphs[0]).shape == (NUM_GENES, DIM)
    assert len(encoder.convs) == 2
    assert "NetworkEncoder(16, num_layers=2" in repr(encoder)


def test_reconstruction_head_shapes_and_features():
    for hidden, feature_dim in [(None, DIM), (8, 8)]:
        head = ReconstructionHead(DIM, NUM_GENES, hidden=hidden)
        h = torch.randn(5, DIM)
        assert head.features(h).shape == (5, feature_dim)
        assert head(h).shape == (5, NUM_GENES)
        assert isinstance(head.out, nn.Linear) and head.out.out_features == NUM_GENES
        torch.testing.assert_close(head(h), head.out(head.features(h)))


@pytest.mark.parametrize(("layers", "hidden"), [(1, None), (2, None), (2, 8)])
def test_meta_embedding_shapes_and_weights(layers, hidden):
    meta = MetaEmbedding(DIM, 3, num_layers=layers, hidden=hidden)
    embeddings = torch.randn(3, NUM_GENES, DIM)
    merged, weights = meta(embeddings)
    assert merged.shape == (NUM_GENES, DIM) and weights.shape == (NUM_GENES, 3)
    torch.testing.assert_close(weights.sum(-1), torch.ones(NUM_GENES))
    torch.testing.assert_close(merged, (weights.t().unsqueeze(-1) * embeddings).sum(0))
    merged_list, _ = meta(list(embeddings))
    torch.testing.assert_close(merged_list, merged)
    with pytest.raises(ValueError, match="expected embeddings of shape"):
        meta(torch.randn(2, NUM_GENES, DIM))


def test_meta_embedding_score_is_the_specs_two_fc_layers_by_default():
    meta = MetaEmbedding(DIM, 3)
    assert [type(m) for m in meta.score] == [nn.Linear, nn.ReLU, nn.Linear]
    assert meta.score[0].out_features == DIM and meta.score[2].out_features == 1
    assert [type(m) for m in Dango(NUM_GENES, NUM_NETWORKS, dim=DIM).meta.score] == [
        nn.Linear, nn.ReLU, nn.Linear]
    assert [type(m) for m in MetaEmbedding(DIM, 3, num_layers=1).score] == [nn.Linear]
    with pytest.raises(ValueError, match="must be 1 or 2"):
        MetaEmbedding(DIM, 3, num_layers=3)


@pytest.mark.parametrize("output", ["diff", "dynamic"])
def test_hyper_sagnn_shapes(output):
    hyper = HyperSAGNN(DIM, output=output)
    x = torch.randn(4, 3, DIM)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 1], [1, 1, 0]]).bool()
    assert hyper(x, mask).shape == (4,)
    assert hyper.node_scores(x, mask).shape == (4, 3)
    assert hyper.dynamic(x, mask).shape == (4, 3, DIM)
    assert hyper(x).shape == (4,)  # mask defaults to all real


def test_hyper_sagnn_builds_only_used_branches():
    assert HyperSAGNN(DIM, output="diff").norm is None
    assert HyperSAGNN(DIM, output="dynamic").lin_static is None
    with pytest.raises(ValueError, match="output must be one of"):
        HyperSAGNN(DIM, output="sum")


def test_dango_shapes(graphs, sets):
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM)
    genes, mask = sets
    out = model(graphs, genes, mask)
    assert out["pred"].shape == (4,)
    assert out["node_embeddings"].shape == (NUM_NETWORKS, NUM_GENES, DIM)
    assert out["meta_embedding"].shape == (NUM_GENES, DIM)
    assert out["meta_weights"].shape == (NUM_GENES, NUM_NETWORKS)
    assert model.encode(graphs).shape == (NUM_NETWORKS, NUM_GENES, DIM)
    merged, weights = model.embed(graphs)
    assert merged.shape == (NUM_GENES, DIM) and weights.shape == (NUM_GENES, NUM_NETWORKS)
    assert model.reconstruct(1, out["node_embeddings"][1, :5]).shape == (5, NUM_GENES)
    with pytest.raises(ValueError, match="expected 2 edge indices"):
        model.encode(graphs[:1])


def test_submodule_names_are_stable():
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM)
    names = {name for name, _ in model.named_children()}
    assert names == {"embedding", "encoders", "recon_heads", "meta", "hyper"}
    assert isinstance(model.encoders, nn.ModuleList) and len(model.encoders) == NUM_NETWORKS
    assert isinstance(model.recon_heads, nn.ModuleList) and len(model.recon_heads) == NUM_NETWORKS


def test_activation_names():
    assert isinstance(activation_from_name("swish"), nn.SiLU)
    assert isinstance(activation_from_name("silu"), nn.SiLU)
    assert isinstance(activation_from_name("gelu"), nn.GELU)
    with pytest.raises(ValueError, match="unknown activation"):
        activation_from_name("tanh")


# --- sets: size independence, padding, permutation ---------------------------------------------


@pytest.mark.parametrize("output", ["diff", "dynamic"])
@pytest.mark.parametrize("self_mask", [True, False])
def test_mixed_batch_equals_separate_scoring(graphs, sets, output, self_mask):
    torch.manual_seed(0)
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM, output=output, self_mask=self_mask).eval()
    set_rezero(model, 0.7)  # make the attention matter
    genes, mask = sets
    with torch.no_grad():
        embedding, _ = model.embed(graphs)
        mixed = model.score_sets(embedding, genes, mask)
        triples = model.score_sets(embedding, genes[[0, 2]])
        pairs = model.score_sets(embedding, genes[[1, 3], :2])
        # padding content does not matter, even an out-of-range index
        other_padding = model.score_sets(embedding, genes.masked_fill(~mask, -1), mask)
        other_padding2 = model.score_sets(embedding, genes.masked_fill(~mask, 13), mask)
    torch.testing.assert_close(mixed[[0, 2]], triples)
    torch.testing.assert_close(mixed[[1, 3]], pairs)
    torch.testing.assert_close(other_padding, mixed)
    torch.testing.assert_close(other_padding2, mixed)


@pytest.mark.parametrize("output", ["diff", "dynamic"])
@pytest.mark.parametrize("self_mask", [True, False])
def test_set_score_is_permutation_invariant(output, self_mask):
    torch.manual_seed(0)
    hyper = HyperSAGNN(DIM, output=output, self_mask=self_mask)
    set_rezero(hyper, 0.5)
    x = torch.randn(6, 4, DIM)
    mask = torch.ones(6, 4, dtype=torch.bool)
    mask[:3, 3] = False  # triples padded into S = 4
    base = hyper(x, mask)
    for perm in ([2, 0, 1, 3], [1, 2, 0, 3]):
        torch.testing.assert_close(hyper(x[:, perm], mask[:, perm]), base)
    # the padding slot may also sit anywhere
    torch.testing.assert_close(hyper(x[:, [3, 1, 0, 2]], mask[:, [3, 1, 0, 2]]), base)


@pytest.mark.parametrize("output", ["diff", "dynamic"])
@pytest.mark.parametrize("self_mask", [True, False])
@pytest.mark.parametrize("size, head_dim, num_layers", [(3, None, 2), (2, 4, 1), (3, 8, 3)])
def test_folded_cached_scoring_equals_forward(output, self_mask, size, head_dim, num_layers):
    """FoldedHyperSAGNN (folded projections, per-gene cache) is the ordinary forward,
    rearranged."""
    torch.manual_seed(0)
    hyper = HyperSAGNN(DIM, output=output, self_mask=self_mask, head_dim=head_dim,
                       num_layers=num_layers).double().eval()
    set_rezero(hyper, 0.7)
    embedding = torch.randn(NUM_GENES, DIM, dtype=torch.float64)
    genes = torch.stack([torch.randperm(NUM_GENES)[:size] for _ in range(30)])
    with torch.no_grad():
        cached = FoldedHyperSAGNN(hyper, embedding).score(genes)
        torch.testing.assert_close(cached, hyper(embedding[genes]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [2, 3, 5])
def test_any_set_size_at_least_two(size):
    hyper = HyperSAGNN(DIM)
    assert hyper(torch.randn(3, size, DIM)).shape == (3,)


def test_self_mask_dynamic_embedding_depends_only_on_the_other_gene():
    torch.manual_seed(0)
    layer = SetSelfAttention(DIM, num_heads=2, self_mask=True, rezero_init=1.0)
    x = torch.randn(1, 2, DIM)
    attended = layer(x) - x  # β·σ(attention) part of d_i
    x_self = x.clone()
    x_self[0, 0] += torch.randn(DIM)  # perturb gene 0 only
    attended_self = layer(x_self) - x_self
    # gene 0's attention output depends only on gene 1 …
    torch.testing.assert_close(attended_self[0, 0], attended[0, 0])
    # … and gene 1's changes, since it attends to gene 0
    assert not torch.allclose(attended_self[0, 1], attended[0, 1])

    unmasked = SetSelfAttention(DIM, num_heads=2, self_mask=False, rezero_init=1.0)
    unmasked.load_state_dict(layer.state_dict())
    assert not torch.allclose((unmasked(x_self) - x_self)[0, 0], (unmasked(x) - x)[0, 0])


# --- ReZero --------------------------------------------------------------------------------


def test_rezero_starts_at_zero_and_learns(graphs, sets):
    torch.manual_seed(0)
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM, num_attention_layers=2)
    betas = [layer.beta for layer in model.hyper.layers]
    assert len(betas) == 2 and all(beta.item() == 0.0 for beta in betas)
    genes, mask = sets
    pred = model(graphs, genes, mask)["pred"]
    log_cosh(pred, torch.randn(4)).backward()
    assert all(beta.grad is not None and beta.grad.abs() > 0 for beta in betas)


# --- gradient flow -----------------------------------------------------------------------------


def nonzero_grad(module: nn.Module) -> bool:
    return all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


@pytest.mark.parametrize("output", ["diff", "dynamic"])
def test_interaction_loss_reaches_every_network(graphs, sets, output):
    torch.manual_seed(0)
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM, output=output)
    genes, mask = sets
    pred = model(graphs, genes, mask)["pred"]
    log_cosh(pred, torch.randn(4)).backward()
    assert model.embedding.weight.grad.abs().sum() > 0
    for encoder in model.encoders:
        assert nonzero_grad(encoder)
    assert nonzero_grad(model.meta)
    assert all(p.grad is None for p in model.recon_heads.parameters())


def test_each_reconstruction_loss_reaches_its_network(graphs):
    torch.manual_seed(0)
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM, recon_hidden=8)
    targets = torch.rand(NUM_NETWORKS, NUM_GENES, NUM_GENES)
    rows = torch.arange(0, NUM_GENES, 2)
    for k in range(NUM_NETWORKS):
        model.zero_grad(set_to_none=True)
        node_embeddings = model.encode(graphs)
        loss = weighted_mse(model.reconstruct(k, node_embeddings[k, rows]), targets[k, rows], 0.1)
        loss.backward()
        assert model.embedding.weight.grad.abs().sum() > 0
        assert nonzero_grad(model.encoders[k]) and nonzero_grad(model.recon_heads[k])
        for other in set(range(NUM_NETWORKS)) - {k}:
            assert all(p.grad is None or p.grad.abs().sum() == 0
                       for p in model.encoders[other].parameters())
            assert all(p.grad is None for p in model.recon_heads[other].parameters())


# --- losses --------------------------------------------------------------------------------


PRED = torch.tensor([[1.0, 0.0, 2.0, 0.0],
                     [0.5, 1.0, 0.0, 0.0]])
TARGET = torch.tensor([[1.0, 1.0, 0.0, 0.0],
                       [0.0, 2.0, 0.0, 1.0]])
# squared errors: row 0 = [0, 1, 4, 0], non-zero targets at columns 0, 1
#                 row 1 = [0.25, 1, 0, 1], non-zero targets at columns 1, 3


@pytest.mark.parametrize("lam, expected", [
    # row 0: (0 + 1 + λ·4 + λ·0) / 4; row 1: (λ·0.25 + 1 + λ·0 + 1) / 4
    (1.0, (5 / 4 + 2.25 / 4) / 2),     # (1.25 + 0.5625) / 2 = 0.90625
    (0.1, (1.4 / 4 + 2.025 / 4) / 2),  # (0.35 + 0.50625) / 2 = 0.428125
])
def test_weighted_mse_by_hand(lam, expected):
    assert weighted_mse(PRED, TARGET, lam).item() == pytest.approx(expected)


@pytest.mark.parametrize("lam, expected", [
    # row 0: mean(0, 1) + λ·mean(4, 0); row 1: mean(1, 1) + λ·mean(0.25, 0)
    (1.0, ((0.5 + 2.0) + (1.0 + 0.125)) / 2),   # 1.8125
    (0.1, ((0.5 + 0.2) + (1.0 + 0.0125)) / 2),  # 0.85625
])
def test_weighted_mse_original_by_hand(lam, expected):
    assert weighted_mse_original(PRED, TARGET, lam).item() == pytest.approx(expected)


def test_weighted_mse_original_empty_terms_contribute_zero():
    pred = torch.tensor([[1.0, 1.0], [1.0, 3.0]])
    target = torch.tensor([[0.0, 0.0], [2.0, 2.0]])  # row 0 all zero, row 1 no zero
    # row 0: 0 + 0.5·mean(1, 1) = 0.5; row 1: mean(1, 1) + 0 = 1
    assert weighted_mse_original(pred, target, 0.5).item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match="same shape"):
        weighted_mse(pred, target[:1], 0.5)


# --- neighbour sampling and the original variant -------------------------------------------


def test_neighbour_sampling_keeps_at_most_k_per_node():
    encoder = NetworkEncoder(DIM, num_sampled_neighbors=5)
    edge_index = complete_graph(12)
    sampled = encoder.sample_neighbors(edge_index, 12)
    in_degree = torch.bincount(sampled[1], minlength=12)
    assert torch.all(in_degree == 5)
    # low-degree nodes keep all their edges
    star = torch.tensor([[1, 2, 0], [0, 0, 1]])
    assert encoder.sample_neighbors(star, 3).size(1) == 3


def test_self_loops_are_added_once():
    torch.manual_seed(0)
    with_loops = NetworkEncoder(DIM, add_self_loops=True)
    plain = NetworkEncoder(DIM)
    plain.load_state_dict(with_loops.state_dict())
    x = torch.randn(3, DIM)
    edge_index = torch.tensor([[0, 1, 1], [1, 0, 1]])  # already has the self-loop 1 -> 1
    one_loop_each = torch.tensor([[0, 1, 0, 1, 2], [1, 0, 0, 1, 2]])
    torch.testing.assert_close(with_loops(x, edge_index), plain(x, one_loop_each))


def test_sample_in_eval():
    encoder = NetworkEncoder(DIM, num_sampled_neighbors=2, sample_in_eval=True).eval()
    assert encoder.samples_neighbors
    assert not NetworkEncoder(DIM, num_sampled_neighbors=2).eval().samples_neighbors
    assert not NetworkEncoder(DIM).train().samples_neighbors


def test_original_configuration():
    model = Dango.original(NUM_GENES, NUM_NETWORKS, dim=DIM)
    assert model.dim == DIM
    assert model.hyper.num_layers == 1 and len(model.hyper.layers) == 1
    assert model.hyper.num_heads == 8 and model.hyper.layers[0].num_heads == 8
    assert model.hyper.self_mask is False and model.hyper.output == "dynamic"
    assert isinstance(model.hyper.act, nn.SiLU)
    assert all(isinstance(enc.act, nn.SiLU) for enc in model.encoders)
    assert all(enc.num_sampled_neighbors == 5 and enc.add_self_loops for enc in model.encoders)
    assert all(head.hidden == DIM for head in model.recon_heads)
    assert model.meta.num_layers == 1 and model.meta.hidden is None
    assert Dango.original(NUM_GENES, NUM_NETWORKS, dim=DIM, num_heads=2).hyper.num_heads == 2


def test_original_sampling_follows_the_global_seed():
    model = Dango.original(NUM_GENES, NUM_NETWORKS, dim=DIM).train()
    graphs = [complete_graph(NUM_GENES)] * NUM_NETWORKS  # degree 19 > 5

    def embeddings(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        with torch.no_grad():
            return model.encode(graphs)

    torch.testing.assert_close(embeddings(1), embeddings(1), rtol=0, atol=0)
    assert not torch.allclose(embeddings(1), embeddings(2))
    # eval mode uses the full neighbourhood: no randomness
    model.eval()
    torch.testing.assert_close(embeddings(1), embeddings(2), rtol=0, atol=0)


# --- determinism and learning --------------------------------------------------------------


def test_reset_parameters_is_deterministic():
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=DIM, recon_hidden=8, meta_hidden=8)
    torch.manual_seed(3)
    model.reset_parameters()
    first = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    model.reset_parameters()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, first[name], rtol=0, atol=0, msg=name)
    torch.manual_seed(4)
    model.reset_parameters()
    assert not torch.equal(model.embedding.weight, first["embedding.weight"])


def test_small_model_overfits_random_triples():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    graphs = [random_graph(NUM_GENES, 50, generator) for _ in range(NUM_NETWORKS)]
    genes = torch.stack([torch.randperm(NUM_GENES, generator=generator)[:3] for _ in range(30)])
    targets = torch.randn(30, generator=generator)
    model = Dango(NUM_GENES, NUM_NETWORKS, dim=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = log_cosh(model(graphs, genes)["pred"], targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], (losses[0], losses[-1])
