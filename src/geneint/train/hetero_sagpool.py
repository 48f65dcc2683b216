"""``hetero_sagpool`` training: the gene–gene relations of a graph set as one
:class:`~geneint.graphs.perturbation.CellGraph`, interaction classes from the evaluation
cut-offs (config ``evaluate``, the same classes every model is evaluated on), and the
:class:`~geneint.models.hetero_sagpool.HeteroSAGPool` classifier trained by
:class:`~geneint.train.set_classification.SetClassification` (class-weighted cross-entropy).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch

from geneint.data.files import PathLike
from geneint.data.interaction_classes import InteractionClasses, balanced_class_weights
from geneint.graphs.perturbation import CellGraph
from geneint.models.hetero_sagpool import HeteroSAGPool
from geneint.train.data import InteractionDataModule
from geneint.train.embeddings import read_embeddings
from geneint.train.multigraph import gene_relations
from geneint.train.neural import ModelOptions, train_set_model
from geneint.train.set_classification import SetClassification
from geneint.train.set_regression import load_set_regression
from geneint.train.sets import TrainingInputs, load_graphs

log = logging.getLogger(__name__)
CLASS_WEIGHTING = ("balanced", "none")
FEATURES = ("learned", "pretrained")


@dataclass
class HeteroSAGPoolOptions(ModelOptions):
    """Config ``hetero_sagpool``, the swept ``dim``, ``lr`` and ``features``, and the classes
    (config ``evaluate``)."""

    MODEL: ClassVar[str] = "hetero_sagpool"
    SWEPT: ClassVar[tuple[str, ...]] = ("lr", "dim", "features")
    EXTRA_SECTIONS: ClassVar[tuple[str, ...]] = ("evaluate",)

    dim: int
    layers: int
    ratio: float
    conv: str
    scope: str
    hops: int
    perturbed: str
    neighbours: int
    readout: str
    class_weights: str
    features: str
    strong_threshold: float
    strong_threshold_by_arity: dict[int, float] = field(default_factory=dict)
    class_edges: list[float] = field(default_factory=list)
    tensorboard: bool = False

    def classes(self) -> InteractionClasses:
        return InteractionClasses.from_config(self.strong_threshold,
                                              self.strong_threshold_by_arity, self.class_edges)


def build_cell_graph(graph_files: list[PathLike], genes: list[str],
                     embeddings: list[PathLike] = ()) -> CellGraph:
    """Every network of the point as relations of one cell graph (a directed network gives
    its published direction and its reverse, as in multigraph); with ``embeddings``, their
    gene embeddings side by side as fixed node features."""
    edges, _ = gene_relations(load_graphs(graph_files, genes))
    if not edges:
        raise ValueError("hetero_sagpool needs at least one graph")
    features = None
    if embeddings:
        features = torch.cat([read_embeddings(path, genes)[1] for path in embeddings], dim=1)
    return CellGraph.from_relations(len(genes), {name: e for (_, name, _), e in edges.items()},
                                    features)


def feature_files(inputs: TrainingInputs, options: HeteroSAGPoolOptions) -> list[PathLike]:
    """The embedding files the features option reads (none for learned features)."""
    if options.features not in FEATURES:
        raise ValueError(f"unknown features {options.features!r}; choose one of {FEATURES}")
    files = list(inputs.pretrained)
    if options.features == "pretrained" and not files:
        raise ValueError("--features pretrained needs --embeddings (embeddings.pt of the "
                         "networks' pretraining)")
    if options.features == "learned" and files:
        raise ValueError("--embeddings are read only with --features pretrained")
    return files


def set_labels(data: InteractionDataModule, classes: InteractionClasses) -> torch.Tensor:
    """The class of every set of the fold by set id (−1 for sets in no role), from the τ the
    model trains on (permuted for the shuffled-label control)."""
    labels = torch.full((len(data.frame),), -1, dtype=torch.long)
    for sets in data.sets.values():
        labels[sets.set_id] = classes.labels(sets.tau, sets.mask.sum(-1))
    return labels


def class_statistics(data: InteractionDataModule, labels_by_set: torch.Tensor,
                     num_classes: int, weighting: str,
                     ) -> tuple[list[float], list[float], list[int]]:
    """Loss weight, mean training τ and training count of every class (``labels_by_set``:
    :func:`set_labels`)."""
    if weighting not in CLASS_WEIGHTING:
        raise ValueError(f"unknown class weighting {weighting!r}; choose one of "
                         f"{CLASS_WEIGHTING}")
    train = data.sets["train"]
    tau = train.tau  # as trained on (permuted for the control)
    labels = labels_by_set[train.set_id]
    counts = torch.bincount(labels, minlength=num_classes)
    means = [float(tau[labels == c].double().mean()) if counts[c] else 0.0
             for c in range(num_classes)]
    weights = (balanced_class_weights(labels, num_classes) if weighting == "balanced"
               else [1.0] * num_classes)
    return weights, means, counts.tolist()


def build_module(data: InteractionDataModule, graph: CellGraph,
                 options: HeteroSAGPoolOptions) -> SetClassification:
    """The LightningModule of hetero_sagpool training, its cell graph attached."""
    classes = options.classes()
    labels = set_labels(data, classes)
    weights, means, counts = class_statistics(data, labels, classes.num_classes,
                                              options.class_weights)
    log.info("classes %s: training counts %s, loss weights %s", list(classes.names), counts,
             [round(w, 3) for w in weights])
    config = {"num_genes": graph.num_genes, "relations": graph.relations,
              "num_classes": classes.num_classes, "dim": options.dim,
              "num_layers": options.layers, "ratio": options.ratio, "conv": options.conv,
              "scope": options.scope, "hops": options.hops, "perturbed": options.perturbed,
              "neighbours": options.neighbours,
              "readout": options.readout,
              "feature_dim": 0 if graph.features is None else int(graph.features.shape[1])}
    module = SetClassification(
        HeteroSAGPool(**config), "hetero_sagpool", config, classes=classes.to_json(),
        class_weights=weights, class_tau=means, tau_scale=data.tau_scale.to_json(),
        lr=options.lr, weight_decay=options.weight_decay, scheduler=options.lr_scheduler,
        max_epochs=options.epochs, input_names=graph.names)
    module.attach(graph)
    module.set_labels(labels)
    return module


def train_hetero_sagpool(inputs: TrainingInputs, options: HeteroSAGPoolOptions,
                         devices: int | str = "auto", num_nodes: int | None = None,
                         progress_bar: bool = True) -> dict[str, Any]:
    """``hetero_sagpool`` through :func:`~geneint.train.neural.train_set_model` (resumable,
    DDP-capable); ``options.batch_size`` is the global batch."""
    embeddings = feature_files(inputs, options)
    record: dict[str, Any] = {"model": "hetero_sagpool", "train": asdict(options),
                              "graphs": [str(p) for p in inputs.graphs],
                              "embeddings": [str(p) for p in embeddings]}

    def build(data: InteractionDataModule) -> SetClassification:
        graph = build_cell_graph(inputs.graphs, data.gene_names, embeddings)
        record["cell_graph"] = {"genes": graph.num_genes, "edges": {
            name: int((graph.relation == i).sum()) for i, name in enumerate(graph.relations)}}
        module = build_module(data, graph, options)
        record["classes"] = module.classes.to_json()
        record["class_weights"] = module.class_weights.tolist()
        record["parameters"] = sum(p.numel() for p in module.model.parameters())
        log.info("hetero_sagpool: %d genes, relations %s, %d parameters", graph.num_genes,
                 record["cell_graph"]["edges"], record["parameters"])
        return module

    return train_set_model(inputs, options.batch_size, options.fit_settings(), build, record,
                           devices=devices, num_nodes=num_nodes, progress_bar=progress_bar)


def load_trained_hetero_sagpool(checkpoint: PathLike, graph: CellGraph) -> SetClassification:
    """A trained ``hetero_sagpool`` from its ``best.ckpt`` with its cell graph, in eval mode."""
    module = load_set_regression(checkpoint, "hetero_sagpool", HeteroSAGPool, SetClassification)
    module.attach(graph)
    return module.eval()
