"""Joint DANGO training: the :class:`~geneint.models.dango.Dango` set model, its graphs and the
pretrained networks, handed to the generic :class:`SetRegression` with the network
reconstruction as auxiliary loss (``α · reconstruction + (1 − α) · interaction``).

The GNNs run once per step for all networks; their node embeddings feed both the
meta-embedding (interaction loss) and the reconstruction of ``recon_genes_per_step`` random
genes per network.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch

from geneint.data.files import PathLike
from geneint.graphs.network import NetworkGraph
from geneint.models.dango import Dango, dango_config
from geneint.schema import config_default, model_axes
from geneint.train.data import InteractionDataModule
from geneint.train.graph_inputs import GraphTensors
from geneint.train.neural import FitSettings, train_set_model
from geneint.train.reconstruction import NetworkReconstruction
from geneint.train.set_regression import SetRegression, load_set_regression
from geneint.train.sets import TrainingInputs, load_graphs

log = logging.getLogger(__name__)

#: Training that comes with a variant, over the config's values (docs/dango.md §6):
#: ``variant: original`` is the original code's model *and* its training (ma-compbio/DANGO
#: ``train.py``):
#:
#: - ``recon_loss: original`` — a row's loss is the mean squared error over its non-zero
#:   entries plus λ × the mean over its zero entries (``spec`` averages over all G entries;
#:   docs/dango.md §2.4);
#: - ``recon_reduction: sum`` — summed over the networks (``spec``: their mean), so α = 0.001
#:   weighs reconstruction K times more;
#: - ``average_top_k: 5`` — a model's prediction is the mean of its 5 best checkpoints;
#: - Adam without weight decay, learning-rate schedule or gradient clipping.
#:
#: Not reproduced, by decision: y = −τ (a no-op for the symmetric log-cosh loss and the linear
#: output); a StandardScaler fitted on *all* triples, test included (a leak: we fit on the
#: training sets); ``adj[x − 1]`` (a bug: gene x learns gene x−1's neighbourhood, and gene 1
#: the padding row); epochs of 10,000 sampled triples and batches of 96 (``train.epochs`` and
#: ``train.batch_size`` keep their meaning for every variant). The swept ``lr`` and
#: ``alpha_schedule`` stay axes: the original used lr 1e-3 and a constant α of 0.001.
VARIANT_TRAINING: dict[str, dict[str, Any]] = {
    "spec": {},
    "original": {"recon_loss": "original", "recon_reduction": "sum", "average_top_k": 5,
                 "weight_decay": 0.0, "lr_scheduler": "none", "gradient_clip": 0.0},
}


def variant_recon_loss(variant: str, requested: str | None = None) -> str:
    """The reconstruction loss of pretraining and training for a variant."""
    return VARIANT_TRAINING[variant].get("recon_loss", requested or "spec")


@dataclass
class DangoArchitecture:
    """Architecture knobs shared by pretraining and joint training (they must match)."""

    variant: str
    dim: int
    heads: int | None = None
    attention_layers: int | None = None
    activation: str | None = None
    recon_hidden: int | None = None
    dropout: float | None = None

    def config(self, num_genes: int, num_networks: int) -> dict[str, Any]:
        return dango_config(self.variant, num_genes, num_networks, dim=self.dim,
                            num_heads=self.heads, num_attention_layers=self.attention_layers,
                            activation=self.activation, recon_hidden=self.recon_hidden,
                            dropout=self.dropout)


@dataclass
class DangoTraining:
    """Joint-training knobs (config ``train`` and the swept ``alpha_schedule``/``lr``)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    gradient_clip: float
    alpha_schedule: str
    alpha: float
    alpha_epochs: int
    recon_genes_per_step: int
    lr_scheduler: str
    patience: int
    average_top_k: int
    embedding_seed: int
    recon_loss: str = "spec"
    recon_reduction: str = "mean"
    recon_impl: str = "sparse"
    freeze_embedding: bool = False
    tensorboard: bool = False

    @classmethod
    def defaults(cls, **overrides: Any) -> DangoTraining:
        """The workflow's defaults (config and sweep schemas), with ``overrides``."""
        axes = model_axes("dango")
        values = {**config_default("train"),
                  "embedding_seed": config_default("pretrain.embedding_seed"),
                  "alpha_schedule": axes["alpha_schedule"]["default"][0],
                  "lr": axes["lr"]["default"][0]}
        return cls(**{**values, **overrides})

    def for_variant(self, variant: str) -> tuple[DangoTraining, dict[str, Any]]:
        """These options with the variant's own training (:data:`VARIANT_TRAINING`) applied,
        and the settings that changed (recorded in ``train_summary.json``)."""
        changed = {key: value for key, value in VARIANT_TRAINING[variant].items()
                   if getattr(self, key) != value}
        for key, value in changed.items():
            log.info("variant %s trains with %s = %s (config: %s)", variant, key, value,
                     getattr(self, key))
        return replace(self, **changed), changed


def load_pretrained(model: Dango, networks: list[str], states: list[dict[str, Any]]) -> None:
    """Load each network's pretrained encoder and head, and the shared embedding table."""
    by_name = {s["network"]: s for s in states}
    missing = [n for n in networks if n not in by_name]
    if missing:
        raise ValueError(f"no pretrained state for networks {missing}")
    tables = [by_name[n]["embedding"] for n in networks]
    if any(not torch.equal(tables[0], t) for t in tables[1:]):
        raise ValueError("pretrained networks started from different embedding tables "
                         "(different embedding_seed or gene index); pretrain them together")
    with torch.no_grad():
        model.embedding.weight.copy_(tables[0])
    for k, name in enumerate(networks):
        try:
            model.encoders[k].load_state_dict(by_name[name]["encoder"])
            model.recon_heads[k].load_state_dict(by_name[name]["recon_head"])
        except RuntimeError as exc:
            raise ValueError(
                f"the pretrained state of {name} does not fit this model: pretrain the "
                f"networks with the same variant and dim (pretrained with "
                f"{by_name[name].get('model_config')}); torch says: {exc}") from None


def build_dango_module(data: InteractionDataModule, graphs: list[NetworkGraph],
                       architecture: DangoArchitecture, options: DangoTraining,
                       pretrained: list[dict[str, Any]] | None = None) -> SetRegression:
    """The LightningModule of joint DANGO training, with its graphs and reconstruction loss
    attached (``data`` must be set up: its τ statistics standardise the targets)."""
    config = architecture.config(len(data.gene_names), len(graphs))
    model = Dango(**config)
    if pretrained:
        load_pretrained(model, [g.name for g in graphs], pretrained)
    module = SetRegression(
        model, "dango", config, tau_scale=data.tau_scale.to_json(), lr=options.lr,
        weight_decay=options.weight_decay, scheduler=options.lr_scheduler,
        max_epochs=options.epochs, alpha_schedule=options.alpha_schedule, alpha=options.alpha,
        alpha_epochs=options.alpha_epochs,
        # Keep H^(0) at its pretraining values: the GNNs then carry all gene-specific signal,
        # which limits memorisation of gene identities on small data.
        frozen=("embedding.",) if options.freeze_embedding else (),
        input_names=[g.name for g in graphs])
    module.attach(GraphTensors(graphs, model.propagation_input),
                  NetworkReconstruction([g.lam for g in graphs], options.recon_genes_per_step,
                                        options.recon_loss, options.recon_impl,
                                        options.recon_reduction))
    return module


def train_dango(inputs: TrainingInputs, architecture: DangoArchitecture,
                options: DangoTraining, devices: int | str = "auto",
                num_nodes: int | None = None, progress_bar: bool = True) -> dict[str, Any]:
    """Joint DANGO training through :func:`~geneint.train.neural.train_set_model` (resumable,
    DDP-capable); ``options.batch_size`` is the global batch. The variant's own training
    (:data:`VARIANT_TRAINING`) is applied over ``options``."""
    options, changed = options.for_variant(architecture.variant)
    record: dict[str, Any] = {"model": "dango", "architecture": asdict(architecture),
                              "train": asdict(options),
                              "variant_training": VARIANT_TRAINING[architecture.variant],
                              "variant_overrode": sorted(changed)}

    def build(data: InteractionDataModule) -> SetRegression:
        graphs = load_graphs(inputs.graphs, data.gene_names)
        record.update(networks=[g.name for g in graphs], lambdas=[g.lam for g in graphs])
        states = [torch.load(p, weights_only=False) for p in inputs.pretrained]
        return build_dango_module(data, graphs, architecture, options, states)

    settings = FitSettings(epochs=options.epochs, gradient_clip=options.gradient_clip or None,
                           patience=options.patience, average_top_k=options.average_top_k,
                           tensorboard=options.tensorboard)
    return train_set_model(inputs, options.batch_size, settings, build, record,
                           devices=devices, num_nodes=num_nodes, progress_bar=progress_bar)


def load_trained_dango(checkpoint: PathLike, graph_paths: list[PathLike],
                       genes: list[str]) -> SetRegression:
    """A trained DANGO from its ``best.ckpt`` with its graphs attached, in eval mode."""
    module = load_set_regression(checkpoint, "dango", Dango)
    graphs = load_graphs(graph_paths, genes)
    module.attach(GraphTensors(graphs, module.model.propagation_input))
    return module.eval()
