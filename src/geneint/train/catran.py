"""Training CaTran with Lightning: Lion, M-per-class batches, masked-gene reconstruction and
the interventional gene-importance loss (the final commit of the challenge code; no validation,
as there)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from geneint.models.catran import CaTran, hide_genes, interventional_loss, reconstruction_loss
from geneint.schema import settings_from
from geneint.train.trainer import make_trainer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaTranSettings:
    """The ``perturbation.catran`` config section (defaults: the schema's)."""

    embedding_dim: int = 40
    sample_genes: int = 500
    hidden_fraction: float = 0.8
    blocks: int = 11
    visible_weight: float = 0.4
    interventional_weight: float = 10.0
    lr: float = 1e-4
    weight_decay: float = 0.05
    epochs: int = 50
    batch_size: int = 2048
    cells_per_class: int = 25

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> CaTranSettings:
        return settings_from(cls, values)


class CaTranModule(L.LightningModule):
    def __init__(self, n_genes: int, settings: CaTranSettings) -> None:
        super().__init__()
        self.settings = settings
        self.model = CaTran(n_genes, settings.embedding_dim, settings.blocks)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
                      ) -> torch.Tensor:
        expression, knocked_down = batch
        n_genes = expression.shape[1]
        genes = torch.randperm(n_genes, device=expression.device)[
            :min(self.settings.sample_genes, n_genes)].sort().values
        position = torch.full((n_genes,), -1, dtype=torch.long, device=expression.device)
        position[genes] = torch.arange(len(genes), device=expression.device)
        sampled_knockdown = torch.where(knocked_down >= 0,
                                        position[knocked_down.clamp_min(0)], -1)
        values = expression[:, genes]
        masked, hidden = hide_genes(values, self.settings.hidden_fraction, None)
        prediction, attention = self.model(masked, genes)
        reconstruction = reconstruction_loss(prediction, values, hidden,
                                             self.settings.visible_weight)
        importance = interventional_loss(prediction, values, attention, sampled_knockdown)
        loss = reconstruction + self.settings.interventional_weight * importance
        self.log_dict({"train/loss": loss, "train/reconstruction": reconstruction,
                       "train/interventional": importance},
                      on_step=False, on_epoch=True, batch_size=len(expression))
        return loss

    def configure_optimizers(self):
        from lion_pytorch import Lion

        return Lion(self.parameters(), lr=self.settings.lr,
                    weight_decay=self.settings.weight_decay)


def batches(expression: np.ndarray, knocked_down: np.ndarray, labels: np.ndarray,
            settings: CaTranSettings, seed: int) -> DataLoader:
    """M-per-class batches (``cells_per_class`` cells of each intervention per batch), as the
    original. With fewer classes than a batch needs (observational data, a small partial
    regime), the batch shrinks to what the classes fill; with one class, plain shuffled
    batches."""
    from pytorch_metric_learning.samplers import MPerClassSampler

    dataset = TensorDataset(torch.as_tensor(expression, dtype=torch.float32),
                            torch.as_tensor(knocked_down, dtype=torch.long))
    classes = len(np.unique(labels))
    m = settings.cells_per_class
    batch = min(settings.batch_size, len(labels))
    if classes < 2:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        batch = min(batch, m * classes) // m * m
        if batch < settings.batch_size:
            log.info("batches of %d cells: %d interventions × %d cells each", batch, classes, m)
        sampler = MPerClassSampler(labels, m, batch_size=batch,
                                   length_before_new_iter=len(labels))
    return DataLoader(dataset, batch_size=batch, sampler=sampler, drop_last=True)


def train_catran(expression: np.ndarray, knocked_down: np.ndarray, labels: np.ndarray,
                 settings: CaTranSettings, seed: int, out_dir: Path) -> CaTran:
    """Fit CaTran on the training cells (``knocked_down``: gene index per cell, −1 for
    controls, −2 for perturbations outside the gene set)."""
    L.seed_everything(seed, workers=True)
    module = CaTranModule(expression.shape[1], settings)
    trainer = make_trainer(out_dir, settings.epochs, callbacks=[], progress_bar=False)
    trainer.fit(module, batches(expression, knocked_down, labels, settings, seed))
    return module.model.eval()
