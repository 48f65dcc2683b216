"""Fitting a :class:`~geneint.train.set_regression.SetRegression` under Lightning, for every
neural model: resumable work folder, DDP geometry from the launcher, early stopping on the
module's ``selection_metric`` (validation Pearson; the validation loss for classifiers), and
the outputs every neural model writes.

``<out>/best.ckpt`` (best on the selection metric), ``<out>/metrics.csv`` (one row per epoch),
``<out>/train_summary.json`` and ``<out>/predictions.parquet`` (train, validation and test sets,
predicted once by the model chosen on validation: the best checkpoint, or the mean prediction of
the ``average_top_k`` best checkpoints, as the original DANGO code averaged its top five).
Resumable state (``last.ckpt``, and ``requeue_<n>.ckpt`` after a Slurm requeue) lives in
``work_dir``, outside the declared outputs, so a killed or requeued job continues from it.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import (
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
)

from geneint.data.files import PathLike, atomic_output, write_text_atomic
from geneint.schema import config_default, model_axes
from geneint.train.cluster import (
    Geometry,
    SlurmRequeue,
    describe_process,
    launch_geometry,
    process_rank,
    resume_checkpoint,
    slurm_plugins,
)
from geneint.train.data import InteractionDataModule
from geneint.train.predictions import (
    PREDICTION_ROLES,
    predictions_frame,
    write_predictions,
)
from geneint.train.set_regression import SetRegression
from geneint.train.sets import TrainingInputs
from geneint.train.trainer import make_trainer

log = logging.getLogger(__name__)


@dataclass
class ModelOptions:
    """The loop settings every neural model's options share; a subclass adds its own fields
    and names where its defaults live (``MODEL``: its config section and sweep axes,
    ``SWEPT``: the axes it takes, ``EXTRA_SECTIONS``: other config sections it reads)."""

    MODEL: ClassVar[str] = ""
    SWEPT: ClassVar[tuple[str, ...]] = ()
    EXTRA_SECTIONS: ClassVar[tuple[str, ...]] = ()

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    gradient_clip: float
    lr_scheduler: str
    patience: int

    @classmethod
    def defaults(cls, **overrides: Any):
        """The workflow's defaults (config and sweep schemas), with ``overrides``."""
        axes = model_axes(cls.MODEL)
        values = {key: value for section in (cls.MODEL, *cls.EXTRA_SECTIONS)
                  for key, value in config_default(section).items()}
        values.update({axis: axes[axis]["default"][0] for axis in cls.SWEPT})
        return cls(**{**values, **overrides})

    @classmethod
    def from_namespace(cls, args: Any):
        """From parsed ``geneint train <model>`` flags (one flag per field)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})

    def fit_settings(self) -> FitSettings:
        return FitSettings(epochs=self.epochs, gradient_clip=self.gradient_clip or None,
                           patience=self.patience,
                           tensorboard=getattr(self, "tensorboard", False))


@dataclass
class FitSettings:
    """Loop settings of neural training (config ``train``, less what the model itself uses)."""

    epochs: int
    gradient_clip: float | None
    patience: int
    average_top_k: int = 1
    tensorboard: bool = False


@torch.no_grad()
def predict_roles(module: SetRegression, data: InteractionDataModule,
                  roles: tuple[str, ...] = PREDICTION_ROLES,
                  batch_size: int = 4096) -> pd.DataFrame:
    """Predictions of every set of ``roles``, one whole-genome pass for all of them."""
    module.eval()
    state = module.prepare()
    frames = []
    for role in roles:
        sets = data.sets[role]
        parts = [module.prediction_columns(sets.genes[start:start + batch_size],
                                           sets.mask[start:start + batch_size], state)
                 for start in range(0, len(sets.tau), batch_size)]
        columns = {key: torch.cat([p[key] for p in parts]).cpu().numpy()
                   for key in parts[0]} if parts else {"tau_pred": torch.empty(0).numpy()}
        frame = predictions_frame(data.frame, sets, role, columns.pop("tau_pred"))
        frames.append(frame.assign(**columns))
    return pd.concat(frames, ignore_index=True)


def run_fingerprint(inputs: list[PathLike], **settings: Any) -> str:
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


def claim_work_dir(out_dir: Path, work_dir: Path, fingerprint: str) -> Path | None:
    """The checkpoint to resume from (None for a fresh start). Every rank reaches the same
    decision from what is on disk; only rank 0 writes."""
    resume = None if _is_stale(work_dir, fingerprint) else resume_checkpoint(work_dir)
    if process_rank() == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        _prepare_work_dir(work_dir, fingerprint)
    return resume


def earlier_curve(work_dir: Path, resume: Path | None) -> pd.DataFrame | None:
    """The epochs logged before a resume (Lightning's CSV logger starts a fresh file)."""
    path = work_dir / "metrics.csv"
    return pd.read_csv(path) if resume is not None and path.exists() else None


def write_curve(work_dir: Path, earlier: pd.DataFrame | None, out: Path) -> None:
    """``work_dir``'s metrics.csv, after the epochs of ``earlier`` that it does not repeat.

    Lightning saves an epoch's checkpoint before it logs that epoch's metrics, so a job killed
    in between resumes after an epoch whose row never reached the file. That gap is logged,
    not hidden."""
    curve = pd.read_csv(work_dir / "metrics.csv")
    if earlier is not None:
        resumed_at = curve["epoch"].min()
        kept = earlier[earlier["epoch"] < resumed_at]
        lost = sorted(set(range(int(resumed_at))) - set(kept["epoch"].dropna().astype(int)))
        if lost:
            log.warning("no metrics for epoch(s) %s: the job was stopped after saving their"
                        " checkpoint and before logging them; the curve skips them", lost)
        curve = pd.concat([kept, curve], ignore_index=True)
    with atomic_output(out) as tmp:
        curve.to_csv(tmp, index=False)


def fit_set_regression(module: SetRegression, data: InteractionDataModule, out_dir: Path,
                       work_dir: Path, settings: FitSettings, geometry: Geometry,
                       resume: Path | None, summary: dict[str, Any],
                       progress_bar: bool = True) -> dict[str, Any]:
    """Fit, then write the outputs of the module docstring; returns the training summary."""
    earlier = earlier_curve(work_dir, resume)
    top_k = settings.average_top_k
    monitor, mode = module.selection_metric, module.selection_mode
    best = ModelCheckpoint(dirpath=work_dir, filename="best" if top_k == 1 else "best-{epoch}",
                           monitor=monitor, mode=mode, save_top_k=top_k, save_last=True)
    callbacks = [best, EarlyStopping(monitor=monitor, mode=mode, patience=settings.patience),
                 LearningRateMonitor(logging_interval="epoch")]
    if geometry.launcher == "slurm":
        callbacks.append(SlurmRequeue(work_dir))
    trainer = make_trainer(
        work_dir, settings.epochs, callbacks, devices=geometry.devices,
        num_nodes=geometry.num_nodes, plugins=slurm_plugins(geometry),
        gradient_clip=settings.gradient_clip, progress_bar=progress_bar,
        strategy="ddp_find_unused_parameters_true" if geometry.world_size > 1 else "auto",
        tensorboard_dir=out_dir / "tensorboard" if settings.tensorboard else None)
    if resume is not None:
        log.info("resuming from %s", resume)
    trainer.fit(module, datamodule=data, ckpt_path=str(resume) if resume is not None else None)
    best_score = (float(best.best_model_score) if best.best_model_score is not None
                  else None)
    summary = {
        "selected_by": monitor, f"best_{monitor.replace('/', '_')}": best_score,
        "epochs_run": trainer.current_epoch, "world_size": trainer.world_size,
        "num_nodes": trainer.num_nodes, "launcher": geometry.launcher,
        "batch_size_per_rank": data.batch_size, "threads_per_rank": torch.get_num_threads(),
        "resumed_from": resume.name if resume is not None else None,
        **summary, "sets": {r: len(s.tau) for r, s in data.sets.items()},
    }
    if trainer.is_global_zero:
        with atomic_output(out_dir / "best.ckpt") as tmp:
            shutil.copyfile(best.best_model_path, tmp)
        # The test sets are predicted once, by the model chosen on validation.
        sign = -1.0 if mode == "max" else 1.0
        chosen = sorted(best.best_k_models, key=lambda p: sign * float(best.best_k_models[p]))
        predictions, epochs = None, []
        for path in chosen:
            state = torch.load(path, map_location=module.device, weights_only=False)
            module.load_state_dict(state["state_dict"])
            frame = predict_roles(module, data)
            predicted = [c for c in frame.columns if c == "tau_pred" or c.startswith("prob_")]
            if predictions is None:
                predictions = frame
            else:
                predictions[predicted] += frame[predicted]
            epochs.append(int(state["epoch"]))
        predictions[predicted] /= len(chosen)
        write_predictions(predictions, out_dir / "predictions.parquet")
        summary["predicted_by_epochs"] = epochs
        write_curve(work_dir, earlier, out_dir / "metrics.csv")
        write_text_atomic(out_dir / "train_summary.json",
                          json.dumps(summary, indent=2, default=str) + "\n")
        # Finished: the resumable state must not be picked up by a later, different run.
        shutil.rmtree(work_dir, ignore_errors=True)
        log.info("best %s %.4f after %d epochs (world size %d)", monitor,
                 best_score if best_score is not None else float("nan"),
                 summary["epochs_run"], trainer.world_size)
    return summary


def train_set_model(inputs: TrainingInputs, batch_size: int, settings: FitSettings,
                    build: Callable[[InteractionDataModule], SetRegression],
                    record: dict[str, Any], devices: int | str = "auto",
                    num_nodes: int | None = None, progress_bar: bool = True) -> dict[str, Any]:
    """Train any neural set model; resumes from the newest checkpoint in ``inputs.work_dir``.

    ``build`` makes the :class:`SetRegression` (model, inputs, auxiliary loss attached) once the
    data are set up; ``record`` holds every setting that defines the run (it decides whether a
    work folder's checkpoints may be resumed, and goes into ``train_summary.json``).
    ``batch_size`` is the global batch: under DDP each of the W ranks takes 1/W of it, so
    results do not depend on how many GPUs ran the job. ``devices``/``num_nodes`` come from the
    launcher (srun, torchrun, submitit) when there is one; see :mod:`geneint.train.cluster`.
    """
    out_dir, work_dir = Path(inputs.out_dir), Path(inputs.work_dir)
    geometry = launch_geometry(devices, num_nodes)
    log.info("%s", describe_process(geometry))
    fingerprint = run_fingerprint(
        inputs=[inputs.interactions, inputs.genes, inputs.split, *inputs.graphs,
                *inputs.pretrained, *([inputs.ontology] if inputs.ontology else []),
                *(sorted(Path(inputs.metabolism).glob("*.parquet")) if inputs.metabolism
                  else [])],
        record=record, seed=inputs.seed, fold=inputs.fold,
        shuffle_labels=inputs.shuffle_labels)
    resume = claim_work_dir(out_dir, work_dir, fingerprint)
    L.seed_everything(inputs.seed, workers=True, verbose=False)
    data = InteractionDataModule(inputs.interactions, inputs.genes, inputs.split, inputs.fold,
                                 batch_size=max(1, round(batch_size / geometry.world_size)),
                                 shuffle_labels=inputs.shuffle_labels, seed=inputs.seed)
    data.setup("fit")
    module = build(data)
    summary = {**record, "seed": inputs.seed, "fold": inputs.fold,
               "shuffle_labels": inputs.shuffle_labels}
    return fit_set_regression(module, data, out_dir, work_dir, settings, geometry, resume,
                              summary=summary, progress_bar=progress_bar)
