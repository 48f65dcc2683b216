"""Per-network pretraining (docs/dango.md §2.6): one job per network trains that network's 2-layer
GNN and reconstruction head.

DANGO shares the gene embedding table :math:`H^{(0)}` between networks; separate jobs cannot
update one table together, so during pretraining the table is *frozen* at an initialisation drawn
from ``embedding_seed`` — the same in every job — and each job trains its network's GNN and head
on top of it. Joint training then starts from that table and trains it with everything else.

``pretrain_network`` writes ``<out>/pretrained.pt`` (encoder, head, shared embedding table),
``<out>/embeddings.pt`` (G, D) and ``<out>/metrics.csv``. Like joint training it is resumable:
``last.ckpt`` (every epoch) and ``requeue_<n>.ckpt`` (on SIGUSR1 under Slurm, which then requeues
the job) live in a work folder outside the outputs, and a restarted job continues from the
newer one.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor

from geneint.data.canonical import read_gene_index
from geneint.data.files import PathLike, atomic_output
from geneint.graphs.network import NetworkGraph, read_graph
from geneint.models.dango import Dango
from geneint.train.cluster import SlurmRequeue, launch_geometry, slurm_plugins
from geneint.train.data import GeneDataModule
from geneint.train.embeddings import write_embeddings
from geneint.train.graph_inputs import GraphTensors
from geneint.train.neural import (
    claim_work_dir,
    earlier_curve,
    run_fingerprint,
    write_curve,
)
from geneint.train.reconstruction import check_reconstruction, reconstruction_loss
from geneint.train.set_regression import configure_optimizer
from geneint.train.trainer import make_trainer

log = logging.getLogger(__name__)


def frozen_embedding_init(num_genes: int, dim: int, seed: int) -> Tensor:
    """The shared H^(0) every pretraining job starts from (identical across jobs)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(num_genes, dim, generator=generator)


class NetworkPretrainer(L.LightningModule):
    """Pretrain one network's 2-layer GNN and reconstruction head (docs/dango.md §2.6).

    Each step runs the GNN over all genes, takes the batch's rows and reconstructs their
    adjacency rows with the weighted MSE (zeros weighted by the network's λ).

    Args:
        model: a one-network :class:`Dango`; its embedding table is frozen at
            :func:`frozen_embedding_init` of ``embedding_seed``.
        model_config: the model's constructor arguments (saved with the pretrained state).
        lam: λ of this network.
        embedding_seed: seed of the frozen shared embedding table.
        recon_loss: ``spec`` (mean over all G entries) or ``original`` (the original code's
            per-row means of non-zero and zero entries).
        recon_impl: ``sparse`` (exact, O(nnz)) or ``dense`` (reference); see
            :func:`~geneint.train.reconstruction.reconstruction_loss`.
    """

    def __init__(self, model: Dango, model_config: dict[str, Any], lam: float,
                 embedding_seed: int, lr: float = 1e-3, weight_decay: float = 0.0,
                 recon_loss: str = "spec", max_epochs: int = 10, scheduler: str = "none",
                 recon_impl: str = "sparse") -> None:
        super().__init__()
        if model.num_networks != 1:
            raise ValueError(f"pretraining takes a one-network model, got {model.num_networks}")
        check_reconstruction(recon_loss, recon_impl)
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        with torch.no_grad():
            self.model.embedding.weight.copy_(
                frozen_embedding_init(model.num_genes, model.dim, embedding_seed))
        self.model.embedding.weight.requires_grad_(False)
        self._graph: GraphTensors | None = None

    def attach_graph(self, graph: NetworkGraph) -> None:
        if graph.num_nodes != self.model.num_genes:
            raise ValueError(f"{graph.name} has {graph.num_nodes} genes, the model "
                             f"{self.model.num_genes}")
        self._graph = GraphTensors([graph], self.model.propagation_input)

    def graph(self) -> GraphTensors:
        if self._graph is None:
            raise RuntimeError("attach_graph() before training or inference")
        return self._graph.on(self.device)

    def node_embeddings(self) -> Tensor:
        return self.model.encode(self.graph())[0]

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
        return configure_optimizer(params, self.hparams.lr, self.hparams.weight_decay,
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


def pretrain_network(graph_path: PathLike, genes_path: PathLike, out_dir: PathLike,
                     model_config: dict[str, Any], embedding_seed: int, epochs: int,
                     batch_size: int, lr: float, weight_decay: float = 0.0,
                     recon_loss: str = "spec", recon_impl: str = "sparse", seed: int = 0,
                     progress_bar: bool = True,
                     work_dir: PathLike | None = None) -> dict[str, Any]:
    """Pretrain one network's GNN + reconstruction head; see the module docstring for outputs.

    ``model_config``: :class:`Dango` arguments without ``num_genes``/``num_networks``.
    ``work_dir``: resumable checkpoints (default ``<out>.work``; keep it outside outputs)."""
    out_dir = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else Path(f"{out_dir}.work")
    fingerprint = run_fingerprint(
        [graph_path, genes_path], model_config=model_config, embedding_seed=embedding_seed,
        epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
        recon_loss=recon_loss, recon_impl=recon_impl, seed=seed)
    resume = claim_work_dir(out_dir, work, fingerprint)
    earlier = earlier_curve(work, resume)
    L.seed_everything(seed, workers=True, verbose=False)
    genes = read_gene_index(genes_path)
    graph = read_graph(graph_path, genes)
    config = {**model_config, "num_genes": len(genes), "num_networks": 1}
    module = NetworkPretrainer(Dango(**config), config, lam=graph.lam,
                               embedding_seed=embedding_seed, lr=lr, weight_decay=weight_decay,
                               recon_loss=recon_loss, recon_impl=recon_impl, max_epochs=epochs)
    module.attach_graph(graph)
    geometry = launch_geometry()
    # Every epoch: epoch.ckpt, and last.ckpt as a link to it (save_top_k=0 would save only at
    # the end, leaving nothing to resume from).
    callbacks: list = [ModelCheckpoint(dirpath=work, filename="epoch", save_last="link")]
    if geometry.launcher == "slurm":
        callbacks.append(SlurmRequeue(work))
    trainer = make_trainer(work, epochs, callbacks, plugins=slurm_plugins(geometry),
                           progress_bar=progress_bar)
    if resume is not None:
        log.info("resuming from %s", resume.name)
    trainer.fit(module, GeneDataModule(len(genes), batch_size),
                ckpt_path=str(resume) if resume is not None else None)
    state = module.pretrained_state(graph.name)
    with atomic_output(out_dir / "pretrained.pt") as tmp:
        torch.save(state, tmp)
    module.eval()
    with torch.no_grad():
        embeddings = module.node_embeddings().cpu()
    write_embeddings(graph.name, genes, embeddings, out_dir / "embeddings.pt")
    write_curve(work, earlier, out_dir / "metrics.csv")
    # Finished: the resumable state must not be picked up by a later, different run.
    shutil.rmtree(work, ignore_errors=True)
    final = float(trainer.callback_metrics.get("train/reconstruction", float("nan")))
    log.info("%s pretrained: λ=%s, final reconstruction loss %.5f", graph.name, graph.lam, final)
    return {"network": graph.name, "lam": graph.lam, "final_reconstruction": final}
