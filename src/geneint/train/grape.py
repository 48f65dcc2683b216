"""Training GRAPE with Lightning: the contrastive pre-training of the gene encoder, the initial
graph, then cells in batches — loss = cell MSE + Huber(δ) on the delta from the control +
the graph regulariser — with the epoch of the lowest validation MSE on the top-20 DE genes kept
(GEARS' model selection)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader

from geneint.models.grape import GRAPE
from geneint.schema import settings_from
from geneint.train.trainer import make_trainer

log = logging.getLogger(__name__)

#: The factor a knocked-down gene's features are multiplied by, (training, prediction).
PERTURBATION_FACTORS = {"zero": (0.0, 0.0), "original": (0.0, -1.0)}


@dataclass(frozen=True)
class GrapeSettings:
    """The ``perturbation.response.grape`` config section (defaults: the schema's)."""

    hidden: int = 256
    out_dim: int = 64
    kernels: int = 64
    gat_heads: int = 4
    dropout: float = 0.4
    gsl_layers: int = 3
    gsl_heads: int = 3
    view_threshold: float = 0.6
    graph_threshold: float = 0.015
    gcn_threshold: float = 0.04
    neighbours: int = 0
    pretrain_epochs: int = 10
    epochs: int = 20
    batch_size: int = 32
    perturbations_per_batch: int = 0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    huber_delta: float = 0.7
    graph_weight: float = 1.0
    perturbation: str = "zero"
    fallback: str = "learned"

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> GrapeSettings:
        return settings_from(cls, values)


@dataclass(frozen=True)
class ResponseData:
    """What a response model trains on, as arrays: training cells and their condition rows,
    the knocked-down genes of every condition, the control mean, the validation means."""

    expression: np.ndarray           # training cells × genes
    cell_condition: np.ndarray       # row of ``knocked_down`` per training cell
    knocked_down: list[list[int]]    # gene positions per condition
    control: np.ndarray
    val_conditions: np.ndarray       # rows of ``knocked_down``
    val_means: np.ndarray            # val conditions × genes
    val_de: np.ndarray               # val conditions × 20 DE gene positions


def factor_matrix(knocked_down: list[list[int]], n_genes: int, factor: float) -> torch.Tensor:
    factors = torch.ones(len(knocked_down), n_genes)
    for row, genes in enumerate(knocked_down):
        factors[row, genes] = factor
    return factors


class GrapeModule(L.LightningModule):
    def __init__(self, model: GRAPE, views: list[torch.Tensor], data: ResponseData,
                 settings: GrapeSettings) -> None:
        super().__init__()
        self.model, self.settings = model, settings
        for k, view in enumerate(views):
            self.register_buffer(f"view{k}", view)
        self.n_views = len(views)
        n_genes = len(data.control)
        train_factor, _ = PERTURBATION_FACTORS[settings.perturbation]
        self.register_buffer("train_factors", factor_matrix(data.knocked_down, n_genes,
                                                            train_factor))
        self.register_buffer("control", torch.as_tensor(data.control))
        self.register_buffer("val_conditions", torch.as_tensor(data.val_conditions))
        self.register_buffer("val_means", torch.as_tensor(data.val_means))
        self.register_buffer("val_de", torch.as_tensor(data.val_de))
        self.huber = torch.nn.HuberLoss(delta=settings.huber_delta)

    def views(self) -> list[torch.Tensor]:
        return [getattr(self, f"view{k}") for k in range(self.n_views)]

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
                      ) -> torch.Tensor:
        expression, condition = batch
        rows, inverse = torch.unique(condition, return_inverse=True)
        profiles, graph = self.model(self.views(), self.train_factors[rows], self.control)
        predicted = profiles[inverse]
        cell_mse = F.mse_loss(predicted, expression)
        delta = self.huber(predicted - self.control, expression - self.control)
        regulariser = F.mse_loss(graph, self.model.initial)
        loss = cell_mse + delta + self.settings.graph_weight * regulariser
        self.log_dict({"train/loss": loss, "train/cell_mse": cell_mse, "train/delta_huber": delta,
                       "train/graph": regulariser}, on_step=False, on_epoch=True,
                      batch_size=len(expression))
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        profiles, _ = self.model(self.views(), self.train_factors[self.val_conditions],
                                 self.control)
        de_error = (profiles.gather(1, self.val_de) - self.val_means.gather(1, self.val_de))
        self.log_dict({"val_mse_de": de_error.pow(2).mean(),
                       "val_mse": F.mse_loss(profiles, self.val_means)},
                      on_step=False, on_epoch=True, batch_size=len(profiles))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.settings.lr,
                                weight_decay=self.settings.weight_decay)


def training_batches(data: ResponseData, settings: GrapeSettings, seed: int) -> DataLoader:
    """Batches of ``batch_size`` random cells (the original), or, with
    ``perturbations_per_batch``, every cell of that many random perturbations: the model runs
    once per perturbation in a batch, so whole perturbations make an epoch far cheaper."""
    expression = torch.as_tensor(data.expression)
    conditions = torch.as_tensor(data.cell_condition)
    generator = torch.Generator().manual_seed(seed)
    if settings.perturbations_per_batch == 0:
        cells = torch.utils.data.TensorDataset(expression, conditions)
        return DataLoader(cells, batch_size=min(settings.batch_size, len(cells)), shuffle=True,
                          drop_last=True, generator=generator)
    groups = [torch.nonzero(conditions == c).ravel() for c in torch.unique(conditions)]

    def collate(chosen: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.cat([groups[k] for k in chosen])
        return expression[rows], conditions[rows]

    return DataLoader(range(len(groups)), batch_size=settings.perturbations_per_batch,
                      shuffle=True, collate_fn=collate, generator=generator)


def pretrain_encoder(model: GRAPE, views: list[torch.Tensor], settings: GrapeSettings) -> list:
    """The contrastive alignment of the first two views (skipped with fewer); the losses."""
    if model.encoder is None or len(views) < 2 or settings.pretrain_epochs == 0:
        return []
    optimiser = torch.optim.Adam(model.encoder.parameters(), lr=settings.lr)
    losses = []
    for _ in range(settings.pretrain_epochs):
        optimiser.zero_grad()
        loss = model.encoder.contrastive_loss(views)
        loss.backward()
        optimiser.step()
        losses.append(float(loss))
    return losses


def build_model(n_genes: int, views: list[np.ndarray], coding: np.ndarray,
                settings: GrapeSettings) -> GRAPE:
    return GRAPE(n_genes, [v.shape[1] for v in views], torch.as_tensor(coding),
                 settings.hidden, settings.out_dim, settings.kernels, settings.gat_heads,
                 settings.dropout, settings.gsl_layers, settings.gsl_heads,
                 settings.view_threshold, settings.graph_threshold, settings.gcn_threshold,
                 settings.neighbours)


def train_grape(data: ResponseData, views: list[np.ndarray], coding: np.ndarray,
                settings: GrapeSettings, seed: int, out_dir: Path) -> tuple[GrapeModule, dict]:
    L.seed_everything(seed, workers=True)
    view_tensors = [torch.as_tensor(v, dtype=torch.float32) for v in views]
    model = build_model(len(data.control), views, coding, settings)
    pretraining = pretrain_encoder(model, view_tensors, settings)
    model.set_initial_graph(view_tensors)
    module = GrapeModule(model, view_tensors, data, settings)
    loader = training_batches(data, settings, seed)
    # One validation "batch": every validation perturbation at once. Without validation
    # perturbations (a tiny data set) the last epoch is kept.
    validate = len(data.val_conditions) > 0
    if not validate:
        log.warning("no validation perturbations: the last epoch's model is kept")
    best = ModelCheckpoint(dirpath=out_dir / "checkpoints", monitor="val_mse_de", mode="min",
                           save_top_k=1, filename="best")
    trainer = make_trainer(out_dir, settings.epochs, callbacks=[best] if validate else [],
                           progress_bar=False)
    trainer.fit(module, loader, DataLoader([0], batch_size=1) if validate else None)
    if validate and best.best_model_path:
        state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
    initial_edges = int((model.initial > 0).sum())
    with torch.no_grad():
        _, features = model.gene_features(view_tensors)
        learned_edges = int((model.structure(features, model.initial) > 0).sum())
    if learned_edges <= len(data.control):
        log.warning("the learned graph has %d edges for %d genes: no gene has a neighbour"
                    " besides itself; the GAT sees no structure (raise grape.neighbours, or"
                    " lower graph_threshold)", learned_edges, len(data.control))
    summary = {"pretraining_loss": pretraining[-1] if pretraining else None,
               "initial_graph_edges": initial_edges, "learned_graph_edges": learned_edges,
               "best_val_mse_de": float(best.best_model_score)
               if validate and best.best_model_score is not None else None}
    return module.eval(), summary


@torch.no_grad()
def predict_profiles(module: GrapeModule, knocked_down: list[list[int]], chunk: int = 64
                     ) -> np.ndarray:
    """Predicted mean profiles of conditions given as knocked-down gene positions."""
    _, factor = PERTURBATION_FACTORS[module.settings.perturbation]
    # Lightning hands the module back on the CPU; predict on the GPU when there is one.
    module = module.to("cuda" if torch.cuda.is_available() else "cpu")
    factors = factor_matrix(knocked_down, len(module.control), factor).to(module.device)
    out = [module.model(module.views(), factors[i:i + chunk], module.control)[0].cpu()
           for i in range(0, len(factors), chunk)]
    return torch.cat(out).numpy()
