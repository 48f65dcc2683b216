"""LightningModules: per-network pretraining, and joint DANGO training.

Both regimes build the same :class:`~geneint.models.dango.Dango` layers from one
``model_config`` dict, so a pretrained network's encoder and reconstruction head load into the
joint model by state dict.

Pretraining runs as one job per network. DANGO shares the gene embedding table
:math:`H^{(0)}` between networks; separate jobs cannot update one table together, so during
pretraining the table is *frozen* at an initialisation drawn from ``embedding_seed`` — the same
in every job — and each job trains its network's GNN and reconstruction head on top of it. Joint
training then starts from that table and trains it with everything else.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch_geometric.utils import to_torch_csr_tensor

from geneint.evaluate.metrics import pearson
from geneint.graphs.network import NetworkGraph
from geneint.models.dango import (
    Dango,
    ReconstructionHead,
    weighted_mse,
    weighted_mse_original,
    weighted_mse_sparse,
)
from geneint.train.objectives import AdjacencyRows, alpha_at, log_cosh

log = logging.getLogger(__name__)

VARIANTS = ("spec", "original")
RECON_LOSSES = {"spec": weighted_mse, "original": weighted_mse_original}
RECON_IMPLS = ("sparse", "dense")


def _check_reconstruction(form: str, impl: str) -> None:
    if form not in RECON_LOSSES or impl not in RECON_IMPLS:
        raise ValueError(f"reconstruction loss {form!r} / implementation {impl!r}: use one of "
                         f"{tuple(RECON_LOSSES)} / {RECON_IMPLS}")


def reconstruction_loss(head: ReconstructionHead, h_rows: Tensor, targets: AdjacencyRows,
                        rows: Tensor, lam: float, form: str = "spec",
                        impl: str = "sparse") -> Tensor:
    """Weighted MSE between predicted and true adjacency rows ``rows`` of one network.

    ``sparse`` is exact over all G columns at O(nnz) cost (``weighted_mse_sparse``); ``dense``
    builds the (B, G) prediction and targets — the reference form, kept for tests and benchmarks.
    """
    _check_reconstruction(form, impl)
    if impl == "dense":
        return RECON_LOSSES[form](head(h_rows), targets(rows), lam)
    return weighted_mse_sparse(head.features(h_rows), head.out, *targets.sparse(rows), lam, form)
LR_SCHEDULERS = ("cosine", "plateau", "none")


def model_config(variant: str, num_genes: int, num_networks: int, dim: int = 64,
                 **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of :class:`Dango` for a variant (``spec`` or ``original``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown DANGO variant {variant!r}; choose one of {VARIANTS}")
    config: dict[str, Any] = {"num_genes": num_genes, "num_networks": num_networks, "dim": dim}
    if variant == "original":
        # reference/dango.md §1: the original code's configuration.
        config.update(num_heads=8, num_attention_layers=1, activation="swish", self_mask=False,
                      output="dynamic", recon_hidden=dim, meta_hidden=None,
                      num_sampled_neighbors=5, add_self_loops=True)
    config.update({k: v for k, v in overrides.items() if v is not None})
    return config


def message_passing_input(graph: NetworkGraph, config: dict[str, Any]) -> Tensor:
    """What the encoders get for a graph: a sparse CSR adjacency (transposed, as PyG expects)
    when no neighbour sampling or self-loops are configured — PyG then aggregates with one
    sparse matrix product, about 6× faster on CPU than scattering edge by edge — else the
    edge_index itself (the original variant resamples edges every forward)."""
    if config.get("num_sampled_neighbors") or config.get("add_self_loops"):
        return graph.edge_index
    return to_torch_csr_tensor(graph.edge_index.flip(0), size=(graph.num_nodes, graph.num_nodes))


class GraphTensors:
    """Graph data a module propagates over, kept out of the module's state on purpose.

    Registered buffers would be saved in checkpoints and broadcast by DDP before every forward
    (and DDP cannot broadcast sparse tensors); graphs are inputs, re-attached after loading, and
    moved to the module's device on first use.
    """

    def __init__(self, graphs: Sequence[NetworkGraph], config: dict[str, Any]) -> None:
        self.names = [g.name for g in graphs]
        self.inputs = [message_passing_input(g, config) for g in graphs]
        self.targets = [AdjacencyRows(g.edge_index, g.weight, g.num_nodes) for g in graphs]
        self.device = torch.device("cpu")

    def on(self, device: torch.device) -> GraphTensors:
        if device != self.device:
            self.inputs = [t.to(device) for t in self.inputs]
            self.targets = [t.to(device) for t in self.targets]
            self.device = device
        return self


def frozen_embedding_init(num_genes: int, dim: int, seed: int) -> Tensor:
    """The shared H^(0) every pretraining job starts from (identical across jobs)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(num_genes, dim, generator=generator)


def _optimizer(params, lr: float, weight_decay: float,
               scheduler: str, max_epochs: int) -> dict[str, Any]:
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if scheduler == "none":
        return {"optimizer": optimizer}
    if scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, max_epochs),
                                                           eta_min=lr * 0.01)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
    if scheduler == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=3)
        return {"optimizer": optimizer, "lr_scheduler": {
            "scheduler": sched, "interval": "epoch", "monitor": "val/pearson"}}
    raise ValueError(f"unknown lr scheduler {scheduler!r}; choose one of {LR_SCHEDULERS}")


class NetworkPretrainer(L.LightningModule):
    """Pretrain one network's 2-layer GNN and reconstruction head (DANGO §2).

    Each step runs the GNN over all genes, takes the batch's rows and reconstructs their
    adjacency rows with the weighted MSE (zeros weighted by the network's λ).

    Args:
        model_config: :class:`Dango` kwargs (``num_networks`` is forced to 1).
        lam: λ of this network.
        embedding_seed: seed of the frozen shared embedding table.
        recon_loss: ``spec`` (mean over all G entries) or ``original`` (the original code's
            per-row means of non-zero and zero entries).
        recon_impl: ``sparse`` (exact, O(nnz)) or ``dense`` (reference); see
            :func:`reconstruction_loss`.
    """

    def __init__(self, model_config: dict[str, Any], lam: float, embedding_seed: int,
                 lr: float = 1e-3, weight_decay: float = 0.0, recon_loss: str = "spec",
                 max_epochs: int = 10, scheduler: str = "none",
                 recon_impl: str = "sparse") -> None:
        super().__init__()
        self.save_hyperparameters()
        config = {**model_config, "num_networks": 1}
        self.model = Dango(**config)
        with torch.no_grad():
            self.model.embedding.weight.copy_(
                frozen_embedding_init(config["num_genes"], config["dim"], embedding_seed))
        self.model.embedding.weight.requires_grad_(False)
        _check_reconstruction(recon_loss, recon_impl)
        self._graph: GraphTensors | None = None

    def attach_graph(self, graph: NetworkGraph) -> None:
        if graph.num_nodes != self.hparams.model_config["num_genes"]:
            raise ValueError(f"{graph.name} has {graph.num_nodes} genes, the model "
                             f"{self.hparams.model_config['num_genes']}")
        self._graph = GraphTensors([graph], self.hparams.model_config)

    def graph(self) -> GraphTensors:
        if self._graph is None:
            raise RuntimeError("attach_graph() before training or inference")
        return self._graph.on(self.device)

    def node_embeddings(self) -> Tensor:
        return self.model.encode(self.graph().inputs)[0]

    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        (rows,) = batch
        h = self.node_embeddings()[rows]
        loss = reconstruction_loss(self.model.recon_heads[0], h, self.graph().targets[0], rows,
                                   self.hparams.lam, self.hparams.recon_loss,
                                   self.hparams.recon_impl)
        self.log("train/reconstruction", loss, prog_bar=True, on_step=False, on_epoch=True,
                 batch_size=rows.numel())
        return loss

    def configure_optimizers(self):
        params = [p for p in [*self.model.encoders[0].parameters(),
                              *self.model.recon_heads[0].parameters()] if p.requires_grad]
        return _optimizer(params, self.hparams.lr, self.hparams.weight_decay,
                          self.hparams.scheduler, self.hparams.max_epochs)

    def pretrained_state(self, network: str) -> dict[str, Any]:
        """What the joint model loads: encoder, head and the shared embedding table."""
        return {
            "network": network,
            "lam": self.hparams.lam,
            "model_config": self.hparams.model_config,
            "embedding_seed": self.hparams.embedding_seed,
            "embedding": self.model.embedding.weight.detach().cpu().clone(),
            "encoder": {k: v.cpu() for k, v in self.model.encoders[0].state_dict().items()},
            "recon_head": {k: v.cpu() for k, v in self.model.recon_heads[0].state_dict().items()},
        }


class JointDango(L.LightningModule):
    """Joint DANGO training: α·reconstruction + (1 − α)·log-cosh interaction loss.

    The GNNs run once per step for all networks; their node embeddings feed both the
    meta-embedding (interaction loss) and the reconstruction of ``recon_genes_per_step`` random
    genes per network. Targets are standardised τ (``tau_mean``, ``tau_std`` from the training
    sets); validation Pearson is computed on the published scale over the whole validation set,
    gathered from every DDP rank.

    Args:
        model_config: :class:`Dango` kwargs.
        networks: network names, in model order.
        lambdas: λ per network.
        alpha_schedule, alpha, alpha_epochs: see :func:`~geneint.train.objectives.alpha_at`.
        recon_genes_per_step: genes whose adjacency rows are reconstructed per step and network
            (DANGO: 10 × batch size).
    """

    def __init__(self, model_config: dict[str, Any], networks: list[str], lambdas: list[float],
                 tau_mean: float = 0.0, tau_std: float = 1.0, lr: float = 1e-3,
                 weight_decay: float = 1e-4, alpha_schedule: str = "constant",
                 alpha: float = 0.001, alpha_epochs: int = 10, recon_genes_per_step: int = 960,
                 recon_loss: str = "spec", scheduler: str = "cosine",
                 max_epochs: int = 50, freeze_embedding: bool = False,
                 recon_impl: str = "sparse") -> None:
        super().__init__()
        if len(networks) != len(lambdas) or len(networks) != model_config["num_networks"]:
            raise ValueError(f"{len(networks)} networks, {len(lambdas)} λ values, model has "
                             f"{model_config['num_networks']} networks")
        alpha_at(alpha_schedule, 0, alpha, alpha_epochs)  # validate early
        self.save_hyperparameters()
        self.model = Dango(**model_config)
        # Keep H^(0) at its pretraining values: the GNNs then carry all gene-specific signal,
        # which limits memorisation of gene identities on small data.
        self.model.embedding.weight.requires_grad_(not freeze_embedding)
        _check_reconstruction(recon_loss, recon_impl)
        self._graphs: GraphTensors | None = None
        self._val_outputs: list[tuple[Tensor, Tensor, Tensor]] = []
        self._val_meta: Tensor | None = None

    # -- graphs and pretrained weights ------------------------------------------------------
    def attach_graphs(self, graphs: Sequence[NetworkGraph]) -> None:
        names = [g.name for g in graphs]
        if names != list(self.hparams.networks):
            raise ValueError(f"graphs {names} do not match the model's networks "
                             f"{list(self.hparams.networks)}")
        self._graphs = GraphTensors(graphs, self.hparams.model_config)

    def graphs(self) -> GraphTensors:
        if self._graphs is None:
            raise RuntimeError("attach_graphs() before training or inference")
        return self._graphs.on(self.device)

    def edge_indices(self) -> list[Tensor]:
        """Per network, what its encoder propagates over (see message_passing_input)."""
        return self.graphs().inputs

    def load_pretrained(self, states: Sequence[dict[str, Any]]) -> None:
        """Load each network's pretrained encoder and head, and the shared embedding table."""
        by_name = {s["network"]: s for s in states}
        missing = [n for n in self.hparams.networks if n not in by_name]
        if missing:
            raise ValueError(f"no pretrained state for networks {missing}")
        tables = [by_name[n]["embedding"] for n in self.hparams.networks]
        if any(not torch.equal(tables[0], t) for t in tables[1:]):
            raise ValueError("pretrained networks started from different embedding tables "
                             "(different embedding_seed or gene index); pretrain them together")
        with torch.no_grad():
            self.model.embedding.weight.copy_(tables[0])
        for k, name in enumerate(self.hparams.networks):
            self.model.encoders[k].load_state_dict(by_name[name]["encoder"])
            self.model.recon_heads[k].load_state_dict(by_name[name]["recon_head"])

    # -- steps -------------------------------------------------------------------------------
    def predict_sets(self, genes: Tensor, mask: Tensor, meta: Tensor | None = None) -> Tensor:
        """Predicted τ on the published scale; pass ``meta`` (the meta-embedding) to reuse one
        GNN pass over many batches."""
        if meta is None:
            meta, _ = self.model.embed(self.edge_indices())
        return self.published_scale(self.model.score_sets(meta, genes, mask))

    def published_scale(self, pred: Tensor) -> Tensor:
        """Model output (standardised τ) mapped back to the published scale."""
        return pred * self.hparams.tau_std + self.hparams.tau_mean

    def alpha(self) -> float:
        return alpha_at(self.hparams.alpha_schedule, self.current_epoch, self.hparams.alpha,
                        self.hparams.alpha_epochs)

    def reconstruction_loss(self, node_embeddings: Tensor) -> Tensor:
        num_genes = self.hparams.model_config["num_genes"]
        n = min(self.hparams.recon_genes_per_step, num_genes)
        rows = torch.randperm(num_genes, device=node_embeddings.device)[:n]
        losses = [reconstruction_loss(self.model.recon_heads[k], node_embeddings[k, rows],
                                      self.graphs().targets[k], rows, lam,
                                      self.hparams.recon_loss, self.hparams.recon_impl)
                  for k, lam in enumerate(self.hparams.lambdas)]
        return torch.stack(losses).mean()

    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        genes, mask, y, _ = batch
        node_embeddings = self.model.encode(self.edge_indices())
        meta, _ = self.model.meta(node_embeddings)
        interaction = log_cosh(self.model.score_sets(meta, genes, mask), y)
        alpha = self.alpha()
        loss = (1.0 - alpha) * interaction
        if alpha > 0:
            reconstruction = self.reconstruction_loss(node_embeddings)
            loss = loss + alpha * reconstruction
            self.log("train/reconstruction", reconstruction, on_step=False, on_epoch=True,
                     batch_size=len(y), sync_dist=True)
        self.log_dict({"train/interaction": interaction, "train/loss": loss}, on_step=False,
                      on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        self.log("train/alpha", alpha, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def on_validation_epoch_start(self) -> None:
        # Weights are fixed during validation: one GNN pass serves every validation batch.
        self._val_meta, _ = self.model.embed(self.edge_indices())

    def validation_step(self, batch: Sequence[Tensor], batch_idx: int) -> None:
        genes, mask, y, set_id = batch
        pred = self.predict_sets(genes, mask, self._val_meta)
        self._val_outputs.append((set_id, pred, y * self.hparams.tau_std + self.hparams.tau_mean))

    def on_validation_epoch_end(self) -> None:
        set_id, pred, target = gather_predictions(self, self._val_outputs)
        self._val_outputs.clear()
        self._val_meta = None
        value = pearson(pred, target)
        # Identical on every rank (computed from the gathered set), so no further reduction.
        self.log("val/pearson", -1.0 if math.isnan(value) else value, prog_bar=True)
        self.log("val/mse", torch.mean((pred - target) ** 2).float())
        self.log("val/n", float(set_id.numel()))

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return _optimizer(params, self.hparams.lr, self.hparams.weight_decay,
                          self.hparams.scheduler, self.hparams.max_epochs)


def gather_predictions(module: L.LightningModule, outputs: list[tuple[Tensor, ...]],
                       ) -> tuple[Tensor, ...]:
    """Concatenate per-step outputs, gather them from every rank, drop sampler padding.

    DistributedSampler pads ranks to equal length by repeating sets; duplicates are removed by
    set id so every set counts exactly once.
    """
    if not outputs:
        return tuple(torch.empty(0) for _ in range(3))
    local = [torch.cat(parts) for parts in zip(*outputs, strict=True)]
    trainer = getattr(module, "_trainer", None)  # .trainer raises when detached
    if trainer is not None and trainer.world_size > 1:
        local = [module.all_gather(t).reshape(-1, *t.shape[1:]) for t in local]
    set_id = local[0]
    order = torch.argsort(set_id, stable=True)
    keep = torch.ones_like(order, dtype=torch.bool)
    keep[1:] = set_id[order][1:] != set_id[order][:-1]
    return tuple(t[order][keep] for t in local)
