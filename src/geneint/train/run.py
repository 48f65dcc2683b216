"""Entry points of the two training stages, called by the CLI (and by tests).

``pretrain_network`` writes ``<out>/pretrained.pt`` (encoder, head, shared embedding table),
``<out>/embeddings.pt`` (G, D) and ``<out>/metrics.csv``.
``train_joint`` writes ``<out>/best.ckpt`` (best validation Pearson), ``<out>/metrics.csv``
(one row per epoch) and ``<out>/train_summary.json``; resumable state (``last.ckpt``, and
``requeue_<n>.ckpt`` after a Slurm requeue) lives in ``work_dir``, outside the
declared outputs, so a killed or requeued job continues from it.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import (
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
)
from lightning.pytorch.loggers import CSVLogger

from geneint.data.io import PathLike, atomic_output, write_text_atomic
from geneint.data.tables import read_gene_index
from geneint.graphs.network import read_graph
from geneint.train.cluster import (
    SlurmRequeue,
    describe_process,
    launch_geometry,
    process_rank,
    resume_checkpoint,
    slurm_plugins,
)
from geneint.train.data import GeneDataModule, InteractionDataModule, load_graphs
from geneint.train.modules import JointDango, NetworkPretrainer, model_config

log = logging.getLogger(__name__)


@dataclass
class ModelOptions:
    """Architecture knobs shared by pretraining and joint training (config ``model``)."""

    variant: str = "spec"
    dim: int = 64
    num_heads: int | None = None
    num_attention_layers: int | None = None
    activation: str | None = None
    recon_hidden: int | None = None
    dropout: float | None = None
    embedding_seed: int = 0

    def config(self, num_genes: int, num_networks: int) -> dict[str, Any]:
        return model_config(self.variant, num_genes, num_networks, dim=self.dim,
                            num_heads=self.num_heads,
                            num_attention_layers=self.num_attention_layers,
                            activation=self.activation, recon_hidden=self.recon_hidden,
                            dropout=self.dropout)


def _loggers(csv_dir: Path, tensorboard_dir: Path | None) -> list:
    """CSV always (metrics.csv, one row per epoch); TensorBoard on request."""
    loggers: list = [CSVLogger(csv_dir, name="", version="")]
    if tensorboard_dir is not None:
        from lightning.pytorch.loggers import TensorBoardLogger

        try:
            loggers.append(TensorBoardLogger(tensorboard_dir, name="", version=""))
        except ModuleNotFoundError as exc:
            raise RuntimeError("--tensorboard needs the tensorboard package: "
                               "pip install tensorboard") from exc
    return loggers


def _trainer(out_dir: Path, max_epochs: int, callbacks: list, devices: int | str = 1,
             num_nodes: int = 1, plugins: list | None = None,
             gradient_clip: float | None = None,
             progress_bar: bool = True, strategy: str = "auto",
             tensorboard_dir: Path | None = None) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu" if not torch.cuda.is_available() else "auto",
        devices=devices, num_nodes=num_nodes, strategy=strategy, plugins=plugins,
        max_epochs=max_epochs,
        callbacks=callbacks, logger=_loggers(out_dir, tensorboard_dir),
        default_root_dir=out_dir, gradient_clip_val=gradient_clip, deterministic="warn",
        enable_progress_bar=progress_bar, enable_model_summary=False, log_every_n_steps=1,
    )


def pretrain_network(graph_path: PathLike, genes_path: PathLike, out_dir: PathLike,
                     model: ModelOptions, epochs: int = 20, batch_size: int = 96,
                     lr: float = 1e-3, weight_decay: float = 0.0, recon_loss: str = "spec",
                     recon_impl: str = "sparse", seed: int = 0,
                     progress_bar: bool = True) -> dict[str, Any]:
    """Pretrain one network's GNN + reconstruction head; see module docstring for outputs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(seed, workers=True, verbose=False)
    genes = read_gene_index(genes_path)
    graph = read_graph(graph_path, genes)
    module = NetworkPretrainer(model.config(len(genes), 1), lam=graph.lam,
                               embedding_seed=model.embedding_seed, lr=lr,
                               weight_decay=weight_decay, recon_loss=recon_loss,
                               recon_impl=recon_impl, max_epochs=epochs)
    module.attach_graph(graph)
    work = out_dir / ".lightning"
    trainer = _trainer(work, epochs, [], progress_bar=progress_bar)
    trainer.fit(module, GeneDataModule(len(genes), batch_size))
    state = module.pretrained_state(graph.name)
    with atomic_output(out_dir / "pretrained.pt") as tmp:
        torch.save(state, tmp)
    module.eval()
    with torch.no_grad():
        embeddings = module.node_embeddings().cpu()
    with atomic_output(out_dir / "embeddings.pt") as tmp:
        torch.save({"network": graph.name, "genes": genes, "embeddings": embeddings}, tmp)
    shutil.copyfile(work / "metrics.csv", out_dir / "metrics.csv")
    shutil.rmtree(work, ignore_errors=True)
    final = float(trainer.callback_metrics.get("train/reconstruction", float("nan")))
    log.info("%s pretrained: λ=%s, final reconstruction loss %.5f", graph.name, graph.lam, final)
    return {"network": graph.name, "lam": graph.lam, "final_reconstruction": final}


@dataclass
class JointOptions:
    """Training knobs of the joint stage (config ``train``)."""

    epochs: int = 50
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    gradient_clip: float | None = 1.0
    alpha_schedule: str = "constant"
    alpha: float = 0.001
    alpha_epochs: int = 10
    recon_genes_per_step: int = 960
    recon_loss: str = "spec"
    recon_impl: str = "sparse"
    scheduler: str = "cosine"
    early_stopping_patience: int = 10
    shuffle_labels: bool = False
    freeze_embedding: bool = False
    tensorboard: bool = False


def train_joint(interactions: PathLike, genes_path: PathLike, split: PathLike, fold: int,
                graph_paths: list[PathLike], pretrained: list[PathLike] | None,
                out_dir: PathLike, work_dir: PathLike, model: ModelOptions,
                options: JointOptions, seed: int = 0, devices: int | str = "auto",
                num_nodes: int | None = None, progress_bar: bool = True) -> dict[str, Any]:
    """Joint DANGO training; resumes from the newest checkpoint in ``work_dir``.

    ``options.batch_size`` is the global batch: under DDP each of the W ranks takes 1/W of it,
    so results do not depend on how many GPUs ran the job. ``devices``/``num_nodes`` come from
    the launcher (srun, torchrun, submitit) when there is one; see ``geneint.train.cluster``.
    """
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    geometry = launch_geometry(devices, num_nodes)
    log.info("%s", describe_process(geometry))
    fingerprint = _run_fingerprint(
        inputs=[interactions, genes_path, split, *graph_paths, *(pretrained or [])],
        model=asdict(model), train=asdict(options), seed=seed, fold=fold,
    )
    # Every rank reaches the same resume decision from what is on disk; only rank 0 writes.
    resume = None if _is_stale(work_dir, fingerprint) else resume_checkpoint(work_dir)
    if process_rank() == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        _prepare_work_dir(work_dir, fingerprint)
    L.seed_everything(seed, workers=True, verbose=False)
    genes = read_gene_index(genes_path)
    graphs = load_graphs(graph_paths, genes)
    data = InteractionDataModule(interactions, genes_path, split, fold,
                                 batch_size=max(1, round(options.batch_size
                                                         / geometry.world_size)),
                                 shuffle_labels=options.shuffle_labels, seed=seed)
    data.setup("fit")
    module = JointDango(
        model.config(len(genes), len(graphs)), networks=[g.name for g in graphs],
        lambdas=[g.lam for g in graphs], tau_mean=data.tau_mean, tau_std=data.tau_std,
        lr=options.lr, weight_decay=options.weight_decay,
        alpha_schedule=options.alpha_schedule, alpha=options.alpha,
        alpha_epochs=options.alpha_epochs, recon_genes_per_step=options.recon_genes_per_step,
        recon_loss=options.recon_loss, recon_impl=options.recon_impl,
        scheduler=options.scheduler, max_epochs=options.epochs,
        freeze_embedding=options.freeze_embedding,
    )
    module.attach_graphs(graphs)
    if pretrained:
        module.load_pretrained([torch.load(p, weights_only=False) for p in pretrained])
    # Lightning's CSV logger starts a fresh file on resume: keep the epochs logged before.
    earlier_curve = (pd.read_csv(work_dir / "metrics.csv")
                     if resume is not None and (work_dir / "metrics.csv").exists() else None)
    best = ModelCheckpoint(dirpath=work_dir, filename="best", monitor="val/pearson", mode="max",
                           save_top_k=1, save_last=True)
    callbacks = [best, EarlyStopping(monitor="val/pearson", mode="max",
                                     patience=options.early_stopping_patience),
                 LearningRateMonitor(logging_interval="epoch")]
    if geometry.launcher == "slurm":
        callbacks.append(SlurmRequeue(work_dir))
    trainer = _trainer(work_dir, options.epochs, callbacks, devices=geometry.devices,
                       num_nodes=geometry.num_nodes, plugins=slurm_plugins(geometry),
                       gradient_clip=options.gradient_clip,
                       progress_bar=progress_bar,
                       strategy="ddp_find_unused_parameters_true"
                       if geometry.world_size > 1 else "auto",
                       tensorboard_dir=out_dir / "tensorboard" if options.tensorboard else None)
    if resume is not None:
        log.info("resuming from %s", resume)
    trainer.fit(module, datamodule=data, ckpt_path=str(resume) if resume is not None else None)
    summary = {
        "best_val_pearson": float(best.best_model_score) if best.best_model_score is not None
        else None,
        "epochs_run": trainer.current_epoch, "world_size": trainer.world_size,
        "num_nodes": trainer.num_nodes, "launcher": geometry.launcher,
        "batch_size_per_rank": data.batch_size,
        "resumed_from": resume.name if resume is not None else None,
        "networks": [g.name for g in graphs],
        "lambdas": [g.lam for g in graphs], "model": asdict(model), "train": asdict(options),
        "seed": seed, "fold": fold, "sets": {r: len(s.tau) for r, s in data.sets.items()},
    }
    if trainer.is_global_zero:
        with atomic_output(out_dir / "best.ckpt") as tmp:
            shutil.copyfile(best.best_model_path, tmp)
        curve = pd.read_csv(work_dir / "metrics.csv")
        if earlier_curve is not None:
            curve = pd.concat([earlier_curve[earlier_curve["epoch"] < curve["epoch"].min()],
                               curve], ignore_index=True)
        with atomic_output(out_dir / "metrics.csv") as tmp:
            curve.to_csv(tmp, index=False)
        write_text_atomic(out_dir / "train_summary.json", json.dumps(summary, indent=2) + "\n")
        # Finished: the resumable state must not be picked up by a later, different run.
        shutil.rmtree(work_dir, ignore_errors=True)
        log.info("best validation Pearson %.4f after %d epochs (world size %d)",
                 summary["best_val_pearson"] or float("nan"), summary["epochs_run"],
                 trainer.world_size)
    return summary


def _run_fingerprint(inputs: list[PathLike], **settings: Any) -> str:
    """Everything that makes a run's checkpoints reusable: settings and input file versions."""
    stats = [(str(p), Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for p in inputs]
    return json.dumps({"inputs": stats, **settings}, sort_keys=True, default=str)


def _is_stale(work_dir: Path, fingerprint: str) -> bool:
    """``work_dir`` holds checkpoints of another run (other settings or inputs), or none."""
    stamp = work_dir / "run.json"
    return not stamp.exists() or stamp.read_text() != fingerprint


def _prepare_work_dir(work_dir: Path, fingerprint: str) -> None:
    """Keep ``work_dir`` (and its resumable checkpoints) only if it belongs to this very run."""
    stamp = work_dir / "run.json"
    if work_dir.exists() and _is_stale(work_dir, fingerprint):
        log.info("discarding %s: it belongs to a run with other settings or inputs", work_dir)
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if not stamp.exists():
        write_text_atomic(stamp, fingerprint)
