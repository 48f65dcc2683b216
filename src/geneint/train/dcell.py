"""DCell training: the :class:`~geneint.models.dcell.DCell` set model over ``ontology.json``,
trained by the generic :class:`~geneint.train.set_regression.SetRegression` with DCell's loss —
root MSE + ``aux_weight`` × (sum or mean over the non-root terms of their heads' MSE).

The ontology's terms map to model terms leaves first; its genes must all be in the gene index
(the ontology stage restricts them to it). Sets whose genes are all outside the ontology have no
path into the network and are predicted from the biases alone; their count is logged and
recorded in ``train_summary.json``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch

from geneint.data.files import PathLike
from geneint.data.ontology import Ontology, read_ontology
from geneint.models.dcell import DCell, dcell_config
from geneint.train.data import InteractionDataModule
from geneint.train.neural import ModelOptions, train_set_model
from geneint.train.set_regression import SetRegression, load_set_regression
from geneint.train.sets import TrainingInputs

log = logging.getLogger(__name__)


@dataclass
class DCellOptions(ModelOptions):
    """Config ``dcell`` and the swept ``lr`` and ``aux_reduction``."""

    MODEL: ClassVar[str] = "dcell"
    SWEPT: ClassVar[tuple[str, ...]] = ("lr", "aux_reduction")

    min_neurons: int
    neuron_ratio: float
    aux_weight: float
    aux_reduction: str
    tensorboard: bool = False


def ontology_model_config(ontology: Ontology, gene_names: list[str], min_neurons: int,
                          neuron_ratio: float) -> dict[str, Any]:
    """:class:`DCell` arguments for ``ontology`` over the gene index ``gene_names``."""
    row = {g: i for i, g in enumerate(gene_names)}
    missing = sorted(ontology.all_genes - row.keys())
    if missing:
        raise ValueError(f"{len(missing)} ontology genes are not in the gene index (e.g. "
                         f"{missing[:3]}): build the ontology from this run's genes.tsv")
    index = {t: i for i, t in enumerate(ontology.terms)}
    return dcell_config(
        children=[[index[c] for c in ontology.children[t]] for t in ontology.terms],
        genes=[[row[g] for g in ontology.genes[t]] for t in ontology.terms],
        gene_counts=[len(ontology.gene_sets[t]) for t in ontology.terms],
        num_genes=len(gene_names), min_neurons=min_neurons, neuron_ratio=neuron_ratio)


def sets_outside(ontology: Ontology, data: InteractionDataModule) -> dict[str, int]:
    """Per role, the sets none of whose genes is in the ontology."""
    inside = torch.tensor([g in ontology.all_genes for g in data.gene_names])
    return {role: int((~(inside[sets.genes] & sets.mask).any(-1)).sum())
            for role, sets in data.sets.items()}


def build_dcell_module(data: InteractionDataModule, ontology: Ontology,
                       options: DCellOptions) -> SetRegression:
    """The LightningModule of DCell training (``data`` set up: its τ scale standardises)."""
    config = ontology_model_config(ontology, data.gene_names, options.min_neurons,
                                   options.neuron_ratio)
    model = DCell(**config)
    return SetRegression(
        model, "dcell", config, tau_scale=data.tau_scale.to_json(), lr=options.lr,
        weight_decay=options.weight_decay, scheduler=options.lr_scheduler,
        max_epochs=options.epochs, loss="mse", auxiliary_set_weight=options.aux_weight,
        auxiliary_reduction=options.aux_reduction)


def train_dcell(inputs: TrainingInputs, options: DCellOptions, devices: int | str = "auto",
                num_nodes: int | None = None, progress_bar: bool = True) -> dict[str, Any]:
    """DCell through :func:`~geneint.train.neural.train_set_model` (resumable, DDP-capable);
    ``options.batch_size`` is the global batch."""
    if inputs.ontology is None:
        raise ValueError("DCell needs an ontology (ontology.json from `geneint parse ontology`)")
    ontology = read_ontology(inputs.ontology)
    record: dict[str, Any] = {"model": "dcell", "train": asdict(options),
                              "ontology": ontology.counts()}

    def build(data: InteractionDataModule) -> SetRegression:
        outside = sets_outside(ontology, data)
        if any(outside.values()):
            log.warning("sets with no gene in the ontology (predicted from biases only): %s",
                        outside)
        record["sets_outside_ontology"] = outside
        module = build_dcell_module(data, ontology, options)
        record["parameters"] = sum(p.numel() for p in module.model.parameters())
        log.info("DCell: %d terms in %d strata, %d neurons, %d parameters",
                 len(ontology), module.model.num_strata,
                 module.model.num_neurons, record["parameters"])
        return module

    return train_set_model(inputs, options.batch_size, options.fit_settings(), build, record,
                           devices=devices, num_nodes=num_nodes, progress_bar=progress_bar)


def load_trained_dcell(checkpoint: PathLike) -> SetRegression:
    """A trained DCell from its ``best.ckpt``, in eval mode."""
    return load_set_regression(checkpoint, "dcell", DCell).eval()
