"""``multigraph`` training: the cell graph of a graph set (every gene–gene network, and the
metabolic model's typed relations when the set has ``metabolism``) as one
:class:`~geneint.models.multigraph.HeteroGraph`, and the :class:`MultiGraph` set model trained
by the generic :class:`~geneint.train.set_regression.SetRegression` (log-cosh on standardised
τ, as DANGO; no auxiliary loss).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from geneint.data.files import PathLike
from geneint.graphs.network import NetworkGraph
from geneint.models.multigraph import HeteroGraph, MultiGraph, multigraph_config
from geneint.train.data import InteractionDataModule
from geneint.train.neural import ModelOptions, train_set_model
from geneint.train.set_regression import SetRegression, load_set_regression
from geneint.train.sets import TrainingInputs, load_graphs

log = logging.getLogger(__name__)


@dataclass
class MultiGraphOptions(ModelOptions):
    """Config ``multigraph`` and the swept ``dim`` and ``lr``."""

    MODEL: ClassVar[str] = "multigraph"
    SWEPT: ClassVar[tuple[str, ...]] = ("lr", "dim")

    dim: int
    layers: int
    heads: int
    local_layers: int
    dropout: float
    tensorboard: bool = False


def relation_name(network: str) -> str:
    """A network's relation name (PyG module keys may not hold dots)."""
    return network.replace(".", "_")


def _attr(weight: torch.Tensor) -> torch.Tensor:
    return weight.float().unsqueeze(-1)


def gene_relations(graphs: list[NetworkGraph]) -> tuple[dict, dict]:
    """One relation per network; a directed network gives its published direction and its
    reverse as two relations."""
    edges, attrs = {}, {}
    for graph in graphs:
        name = relation_name(graph.name)
        if graph.directed:
            for suffix, reverse in (("", False), ("_reverse", True)):
                keep = (graph.direction == (-1 if reverse else 1)) | (graph.direction == 2)
                relation = ("gene", name + suffix, "gene")
                edges[relation] = graph.edge_index[:, keep]
                attrs[relation] = _attr(graph.weight[keep])
        else:
            relation = ("gene", name, "gene")
            edges[relation], attrs[relation] = graph.edge_index, _attr(graph.weight)
    return edges, attrs


def metabolic_relations(gene_reaction: pd.DataFrame, reaction_metabolite: pd.DataFrame,
                        genes: list[str]) -> tuple[dict[str, int], dict, dict]:
    """Gene–reaction (GPR) and reaction–metabolite (stoichiometry) relations, both ways.

    Reactions and metabolites are numbered in sorted order; GPR genes outside the gene index
    were dropped (and counted) by the metabolism stage."""
    reactions = sorted(set(reaction_metabolite["reaction"]) | set(gene_reaction["reaction"]))
    metabolites = sorted(set(reaction_metabolite["metabolite"]))
    gene_id = pd.Series(np.arange(len(genes)), index=pd.Index(genes))
    reaction_id = pd.Series(np.arange(len(reactions)), index=pd.Index(reactions))
    metabolite_id = pd.Series(np.arange(len(metabolites)), index=pd.Index(metabolites))
    gpr = gene_reaction[["gene", "reaction"]].drop_duplicates()
    unknown = ~gpr["gene"].isin(gene_id.index)
    if unknown.any():
        raise ValueError(f"{int(unknown.sum())} GPR genes are not in the gene index (e.g. "
                         f"{gpr['gene'][unknown].iat[0]}): build the metabolism tables from "
                         "this run's genes.tsv")
    g = torch.from_numpy(gpr["gene"].map(gene_id).to_numpy(np.int64))
    r = torch.from_numpy(gpr["reaction"].map(reaction_id).to_numpy(np.int64))
    sr = torch.from_numpy(reaction_metabolite["reaction"].map(reaction_id).to_numpy(np.int64))
    sm = torch.from_numpy(reaction_metabolite["metabolite"].map(metabolite_id)
                          .to_numpy(np.int64))
    coefficient = torch.from_numpy(reaction_metabolite["coefficient"].to_numpy(np.float32))
    ones = torch.ones(len(g))
    edges = {("gene", "gpr", "reaction"): torch.stack([g, r]),
             ("reaction", "gpr_reverse", "gene"): torch.stack([r, g]),
             ("metabolite", "stoichiometry", "reaction"): torch.stack([sm, sr]),
             ("reaction", "stoichiometry_reverse", "metabolite"): torch.stack([sr, sm])}
    attrs = {("gene", "gpr", "reaction"): _attr(ones),
             ("reaction", "gpr_reverse", "gene"): _attr(ones),
             ("metabolite", "stoichiometry", "reaction"): _attr(coefficient),
             ("reaction", "stoichiometry_reverse", "metabolite"): _attr(coefficient)}
    return {"reaction": len(reactions), "metabolite": len(metabolites)}, edges, attrs


def build_cell_graph(graph_files: list[PathLike], genes: list[str],
                     metabolism: PathLike | None = None) -> HeteroGraph:
    """The :class:`HeteroGraph` of a point's networks and, optionally, its metabolism folder."""
    edges, attrs = gene_relations(load_graphs(graph_files, genes))
    num_nodes = {"gene": len(genes)}
    if metabolism is not None:
        from geneint.data.metabolism import read_metabolism

        tables = read_metabolism(metabolism)
        sizes, more_edges, more_attrs = metabolic_relations(
            tables.gene_reaction, tables.reaction_metabolite, genes)
        num_nodes.update(sizes)
        edges.update(more_edges)
        attrs.update(more_attrs)
    if not edges:
        raise ValueError("multigraph needs at least one graph")
    return HeteroGraph(num_nodes, edges, attrs)


def describe(graph: HeteroGraph) -> dict[str, Any]:
    return {"nodes": dict(graph.num_nodes),
            "edges": {"__".join(r): int(e.size(1)) for r, e in graph.edge_index.items()}}


def build_multigraph_module(data: InteractionDataModule, graph: HeteroGraph,
                            options: MultiGraphOptions) -> SetRegression:
    """The LightningModule of multigraph training, its cell graph attached."""
    config = multigraph_config(graph, dim=options.dim, num_layers=options.layers,
                               heads=options.heads, local_layers=options.local_layers,
                               dropout=options.dropout)
    module = SetRegression(
        MultiGraph(**config), "multigraph", config, tau_scale=data.tau_scale.to_json(),
        lr=options.lr, weight_decay=options.weight_decay, scheduler=options.lr_scheduler,
        max_epochs=options.epochs, input_names=graph.names)
    module.attach(graph)
    return module


def train_multigraph(inputs: TrainingInputs, options: MultiGraphOptions,
                     devices: int | str = "auto", num_nodes: int | None = None,
                     progress_bar: bool = True) -> dict[str, Any]:
    """``multigraph`` through :func:`~geneint.train.neural.train_set_model` (resumable,
    DDP-capable); ``options.batch_size`` is the global batch."""
    record: dict[str, Any] = {"model": "multigraph", "train": asdict(options),
                              "graphs": [str(p) for p in inputs.graphs],
                              "metabolism": str(inputs.metabolism or "")}

    def build(data: InteractionDataModule) -> SetRegression:
        graph = build_cell_graph(inputs.graphs, data.gene_names, inputs.metabolism)
        record["cell_graph"] = describe(graph)
        module = build_multigraph_module(data, graph, options)
        record["parameters"] = sum(p.numel() for p in module.model.parameters())
        log.info("multigraph: nodes %s, %d relations, %d parameters", graph.num_nodes,
                 len(graph.relations), record["parameters"])
        return module

    return train_set_model(inputs, options.batch_size, options.fit_settings(), build, record,
                           devices=devices, num_nodes=num_nodes, progress_bar=progress_bar)


def load_trained_multigraph(checkpoint: PathLike, graph: HeteroGraph) -> SetRegression:
    """A trained ``multigraph`` from its ``best.ckpt`` with its cell graph, in eval mode."""
    module = load_set_regression(checkpoint, "multigraph", MultiGraph)
    module.attach(graph)
    return module.eval()
