"""The Lightning ``Trainer`` every training stage uses: CSV metrics (one row per epoch), CPU or
GPU, DDP geometry from the launcher, deterministic where torch allows it."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.loggers import CSVLogger


def make_loggers(csv_dir: Path, tensorboard_dir: Path | None) -> list:
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


def make_trainer(out_dir: Path, max_epochs: int, callbacks: list, devices: int | str = 1,
                 num_nodes: int = 1, plugins: list | None = None,
                 gradient_clip: float | None = None, progress_bar: bool = True,
                 strategy: str = "auto", tensorboard_dir: Path | None = None) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu" if not torch.cuda.is_available() else "auto",
        devices=devices, num_nodes=num_nodes, strategy=strategy, plugins=plugins,
        max_epochs=max_epochs,
        callbacks=callbacks, logger=make_loggers(out_dir, tensorboard_dir),
        default_root_dir=out_dir, gradient_clip_val=gradient_clip, deterministic="warn",
        enable_progress_bar=progress_bar, enable_model_summary=False, log_every_n_steps=1,
    )
