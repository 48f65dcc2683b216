"""DCell: the stratum-batched model against the per-term loop, its gene masking, its sizes and
its loss."""

from __future__ import annotations

import math

import pytest
import torch

from geneint.data.ontology import Ontology, read_dcell_topology
from geneint.models.dcell import DCell, bucket, dcell_config, term_width
from geneint.models.dcell_reference import DCellPerTerm
from geneint.train.dcell import ontology_model_config
from geneint.train.set_regression import SetRegression


def random_ontology(n_terms: int = 40, n_genes: int = 60, seed: int = 0) -> Ontology:
    """A random DAG (terms may have several parents) with genes annotated at every level."""
    rng = torch.Generator().manual_seed(seed)
    names = [f"T{i:03d}" for i in range(n_terms)]
    children: dict[str, list[str]] = {t: [] for t in names}
    for i in range(1, n_terms):  # every term but T000 gets 1-2 parents with a smaller index
        for parent in torch.randint(0, i, (1 + int(torch.rand(1, generator=rng) < 0.3),),
                                    generator=rng).unique().tolist():
            children[names[parent]].append(names[i])
    genes = {t: [f"G{g:03d}" for g in torch.randperm(n_genes, generator=rng)[:3].tolist()]
             for t in names}
    return Ontology.from_edges(children, genes)


def model_and_reference(ontology: Ontology, **kwargs):
    gene_names = sorted(ontology.all_genes)
    config = ontology_model_config(ontology, gene_names, min_neurons=kwargs.get("min_neurons", 4),
                                   neuron_ratio=0.3)
    torch.manual_seed(0)
    model = DCell(**config, **{k: v for k, v in kwargs.items() if k != "min_neurons"})
    return model, DCellPerTerm.from_dcell(model, config["children"], config["genes"]), config


@pytest.mark.parametrize("arity", [2, 3])
@pytest.mark.parametrize("per_octave", [1, 4])
def test_the_batched_model_equals_the_per_term_loop(arity, per_octave):
    ontology = random_ontology()
    model, reference, config = model_and_reference(ontology, buckets_per_octave=per_octave)
    genes = torch.randint(0, config["num_genes"], (32, arity))
    mask = torch.ones_like(genes, dtype=torch.bool)
    mask[::5, -1] = False  # some smaller sets in the same batch
    for training in (True, False):
        model.train(training)
        reference.train(training)
        pred, aux = model.score(None, genes, mask)
        ref_pred, ref_aux = reference.score(None, genes, mask)
        assert aux.shape == (32, len(ontology) - 1)
        torch.testing.assert_close(pred, ref_pred, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(aux, ref_aux, rtol=1e-5, atol=1e-5)
    # and the same gradients reach the same weights
    model.train()
    reference.train()
    model.score(None, genes, mask)[0].sum().backward()
    reference.score(None, genes, mask)[0].sum().backward()
    located = {t: (g, i) for g in model.groups for i, t in enumerate(g.terms)}
    for t, linear in enumerate(reference.linears):
        group, i = located[t]
        width, n_inputs = group.widths[i], group.n_inputs[i]
        torch.testing.assert_close(group.weight.grad[i, :width, :n_inputs], linear.weight.grad,
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(group.head_bias.grad[i], reference.heads[t].bias.grad,
                                   rtol=1e-4, atol=1e-5)


def test_a_term_sees_exactly_the_genes_of_its_subtree():
    """Through its own direct genes and its children only: the gradient of a term's neurons
    with respect to every gene's perturbation state is non-zero exactly on its gene set."""
    ontology = random_ontology(n_terms=25, n_genes=40, seed=1)
    model, _, config = model_and_reference(ontology)
    model.eval()
    gene_names = sorted(ontology.all_genes)
    every_gene = torch.arange(config["num_genes"]).unsqueeze(0)
    for t, term in enumerate(ontology.terms):
        states = torch.full(every_gene.shape, 0.5, requires_grad=True)
        neurons = model.neurons(every_gene, torch.ones_like(every_gene, dtype=torch.bool),
                                states)
        neurons[:, model.term_slice(t)].sum().backward()
        seen = {gene_names[g] for g in states.grad[0].nonzero().flatten().tolist()}
        assert seen == set(ontology.gene_sets[term]), term


def test_a_leaf_reads_only_its_direct_genes_and_padding_never_learns():
    ontology = random_ontology()
    model, _, config = model_and_reference(ontology, buckets_per_octave=1)
    for group in model.groups:
        gene_columns = group.gene_rows.split(group.gene_counts)
        for i, t in enumerate(group.terms):
            assert set(gene_columns[i].tolist()) == set(config["genes"][t])
            assert group.children_of[i] == config["children"][t]
    genes = torch.randint(0, config["num_genes"], (16, 3))
    model.score(None, genes, torch.ones_like(genes, dtype=torch.bool))[0].sum().backward()
    for group in model.groups:
        for i, t in enumerate(group.terms):
            n_inputs = group.n_inputs[i]
            grad = group.weight.grad[i].clone()
            grad[:model.widths[t], :n_inputs] = 0
            assert not grad.any(), "padding received a gradient"
            head = group.head_weight.grad[i, 0].clone()
            head[:model.widths[t]] = 0
            assert not head.any(), "a padded row's head received a gradient"


def test_term_widths_and_buckets():
    assert term_width(10) == 20 and term_width(67) == 21 and term_width(162) == 49
    assert term_width(100, min_neurons=10, neuron_ratio=0.2) == 20
    for size in range(1, 3000):
        assert size <= bucket(size) <= size * 1.25 + 1
    assert len({bucket(s) for s in range(20, 2000)}) < 30


@pytest.mark.realdata
def test_the_dna_repair_topology_builds_a_model_of_its_21_terms(shared_data):
    ontology = read_dcell_topology(
        shared_data / "costanzo2016_dna_repair" / "GO_0006281_topology")
    config = ontology_model_config(ontology, sorted(ontology.all_genes) + ["YAL001C"], 20, 0.3)
    assert len(config["widths"]) == 21 and config["num_genes"] == 163
    assert config["widths"][-1] == math.ceil(0.3 * 162)  # the root: 49 neurons
    model = DCell(**config)
    assert model.num_strata == 5


def test_ontology_genes_outside_the_gene_index_are_an_error():
    ontology = random_ontology()
    with pytest.raises(ValueError, match="not in the gene index"):
        ontology_model_config(ontology, sorted(ontology.all_genes)[1:], 20, 0.3)


def test_terms_must_come_leaves_first():
    with pytest.raises(ValueError, match="leaves first"):
        DCell(num_genes=3, children=[[1], []], genes=[[0], [1]], widths=[4, 4])


def test_auxiliary_losses_are_summed_or_averaged_over_terms():
    ontology = random_ontology(n_terms=12)
    config = dcell_config(*(ontology_model_config(ontology, sorted(ontology.all_genes), 4,
                                                  0.3)[k] for k in ("children", "genes")),
                          gene_counts=[len(ontology.gene_sets[t]) for t in ontology.terms],
                          num_genes=len(ontology.all_genes), min_neurons=4)
    genes = torch.randint(0, config["num_genes"], (8, 2))
    batch = (genes, torch.ones_like(genes, dtype=torch.bool), torch.randn(8), torch.arange(8))
    losses = {}
    for reduction in ("sum", "mean"):
        torch.manual_seed(0)
        module = SetRegression(DCell(**config), "dcell", config, loss="mse",
                               auxiliary_set_weight=1.0, auxiliary_reduction=reduction)
        module.log = module.log_dict = lambda *a, **k: None
        losses[reduction] = module.training_step(batch, 0)
        pred, aux = module.model.score(None, batch[0], batch[1])
        root = torch.mean((pred - batch[2]) ** 2)
    aux_mean = losses["mean"] - root
    torch.testing.assert_close(losses["sum"] - root, aux_mean * (len(ontology) - 1))
