"""The one LightningModule of every neural set model: regression of τ on gene sets.

:class:`SetRegression` receives its :class:`~geneint.models.base.SetModel` (Lightning style: the
system owns the loss, the optimiser and the logging; the model is a plain ``nn.Module``). Loss:
log-cosh (DANGO, docs/dango.md §5) or MSE (DCell) on standardised τ, plus, when given, a
gene-level auxiliary loss weighted by the α schedule (:func:`~geneint.train.objectives.alpha_at`)
— ``loss = α · auxiliary + (1 − α) · interaction`` — and per-set auxiliary predictions if the
model returns them (``interaction + w · (mean or sum over the A auxiliary predictions of their
loss)``; the sum weighs them A times more). Validation Pearson is computed on the published
scale over the whole validation set, gathered from every DDP rank.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor

from geneint.models.base import SetModel
from geneint.train.objectives import (
    AUXILIARY_REDUCTIONS,
    SET_LOSSES,
    alpha_at,
    selection_pearson,
)
from geneint.train.sets import TauScale

log = logging.getLogger(__name__)

LR_SCHEDULERS = ("cosine", "plateau", "none")

#: Auxiliary gene-level loss: ``(model, state, inputs) -> scalar``.
Auxiliary = Callable[[SetModel, Any, Any], Tensor]


def configure_optimizer(params, lr: float, weight_decay: float,
                        scheduler: str, max_epochs: int) -> dict[str, Any]:
    """AdamW with a learning-rate schedule that steps every epoch."""
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


class SetRegression(L.LightningModule):
    """Train a :class:`~geneint.models.base.SetModel` to predict τ of gene sets.

    Args:
        model: the set model (not saved in hyperparameters; rebuilt from ``model_name`` and
            ``model_config`` when a checkpoint is loaded, see :mod:`geneint.train.neural`).
        model_name, model_config: registry name and the model's constructor arguments.
        tau_scale: standardisation of τ per arity (:meth:`TauScale.to_json` of the training
            sets); predictions are mapped back. :obj:`None`: the identity.
        lr, weight_decay, scheduler, max_epochs: the optimiser (AdamW) and its schedule.
        alpha_schedule, alpha, alpha_epochs: weight of the auxiliary loss per epoch.
        loss: the regression loss, ``log_cosh`` or ``mse`` (:data:`SET_LOSSES`).
        auxiliary_set_weight, auxiliary_reduction: weight of per-set auxiliary predictions, if
            the model has them, and whether their losses are averaged or summed.
        frozen: parameter-name prefixes kept at their initial values (e.g. ``embedding.``).
        input_names: names of the model's non-module inputs in order (e.g. networks), checked
            when they are attached again after loading.
    """

    #: The validation metric that selects checkpoints and stops training, and whether higher
    #: (``max``) or lower (``min``) is better.
    selection_metric = "val/pearson"
    selection_mode = "max"

    def __init__(self, model: SetModel, model_name: str, model_config: dict[str, Any],
                 tau_scale: dict[str, list[float]] | None = None, lr: float = 1e-3,
                 weight_decay: float = 1e-4, scheduler: str = "cosine", max_epochs: int = 50,
                 alpha_schedule: str = "constant", alpha: float = 0.001,
                 alpha_epochs: int = 10, auxiliary_set_weight: float = 0.3,
                 loss: str = "log_cosh", auxiliary_reduction: str = "mean",
                 frozen: Sequence[str] = (), input_names: Sequence[str] = ()) -> None:
        super().__init__()
        alpha_at(alpha_schedule, 0, alpha, alpha_epochs)  # validate early
        if loss not in SET_LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(SET_LOSSES)}")
        if auxiliary_reduction not in AUXILIARY_REDUCTIONS:
            raise ValueError(f"unknown auxiliary reduction {auxiliary_reduction!r}; choose one "
                             f"of {AUXILIARY_REDUCTIONS}")
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        self.tau_scale = TauScale.from_json(tau_scale) if tau_scale else None
        for name, param in self.model.named_parameters():
            if any(name.startswith(prefix) for prefix in frozen):
                param.requires_grad_(False)
        self._inputs: Any = None
        self._auxiliary: Auxiliary | None = None
        self._val_outputs: list[tuple[Tensor, Tensor, Tensor]] = []
        self._val_state: Any = None

    # -- inputs kept out of the module's state ----------------------------------------------
    def attach(self, inputs: Any = None, auxiliary: Auxiliary | None = None) -> None:
        """Non-module inputs of the model (e.g. graphs, with an ``on(device)`` method and
        ``names``) and the auxiliary gene-level loss, if any."""
        names = list(getattr(inputs, "names", []))
        if self.hparams.input_names and names != list(self.hparams.input_names):
            raise ValueError(f"inputs {names} do not match the model's "
                             f"{list(self.hparams.input_names)}")
        self._inputs = inputs
        self._auxiliary = auxiliary

    def inputs(self) -> Any:
        if self._inputs is None or not hasattr(self._inputs, "on"):
            return self._inputs
        return self._inputs.on(self.device)

    # -- prediction ----------------------------------------------------------------------------
    def prepare(self) -> Any:
        return self.model.prepare(self.inputs())

    def _score(self, state: Any, genes: Tensor, mask: Tensor) -> tuple[Tensor, Tensor | None]:
        out = self.model.score(state, genes, mask)
        return out if isinstance(out, tuple) else (out, None)

    def prediction_columns(self, genes: Tensor, mask: Tensor, state: Any) -> dict[str, Tensor]:
        """The predictions table's columns for these sets (``tau_pred``; a classifier adds its
        class probabilities)."""
        return {"tau_pred": self.predict_sets(genes, mask, state)}

    def predict_sets(self, genes: Tensor, mask: Tensor, state: Any = None) -> Tensor:
        """Predicted τ on the published scale; pass ``state`` (from :meth:`prepare`) to reuse
        one whole-genome pass over many batches."""
        if state is None:
            state = self.prepare()
        return self.published_scale(self._score(state, genes, mask)[0], mask.sum(-1))

    def published_scale(self, pred: Tensor, arity: Tensor) -> Tensor:
        """Model output (standardised τ) of sets of the given arities, on the published
        scale."""
        return pred if self.tau_scale is None else self.tau_scale.published(pred, arity)

    def alpha(self) -> float:
        return alpha_at(self.hparams.alpha_schedule, self.current_epoch, self.hparams.alpha,
                        self.hparams.alpha_epochs)

    # -- steps ---------------------------------------------------------------------------------
    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        genes, mask, y, _ = batch
        inputs = self.inputs()
        state = self.model.prepare(inputs)
        pred, aux_pred = self._score(state, genes, mask)
        loss_fn = SET_LOSSES[self.hparams.loss]
        interaction = loss_fn(pred, y)
        loss = interaction
        if aux_pred is not None and aux_pred.shape[-1]:
            aux_sets = loss_fn(aux_pred, y.unsqueeze(-1).expand_as(aux_pred))
            if self.hparams.auxiliary_reduction == "sum":
                aux_sets = aux_sets * aux_pred.shape[-1]
            loss = loss + self.hparams.auxiliary_set_weight * aux_sets
            self.log("train/auxiliary_sets", aux_sets, on_step=False, on_epoch=True,
                     batch_size=len(y), sync_dist=True)
        if self._auxiliary is not None:
            alpha = self.alpha()
            loss = (1.0 - alpha) * loss
            if alpha > 0:
                auxiliary = self._auxiliary(self.model, state, inputs)
                loss = loss + alpha * auxiliary
                self.log("train/reconstruction", auxiliary, on_step=False, on_epoch=True,
                         batch_size=len(y), sync_dist=True)
            self.log("train/alpha", alpha, on_step=False, on_epoch=True, batch_size=len(y))
        self.log_dict({"train/interaction": interaction, "train/loss": loss}, on_step=False,
                      on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        return loss

    def on_validation_epoch_start(self) -> None:
        # Weights are fixed during validation: one whole-genome pass serves every batch.
        self._val_state = self.prepare()

    def validation_step(self, batch: Sequence[Tensor], batch_idx: int) -> None:
        genes, mask, y, set_id = batch
        pred = self.predict_sets(genes, mask, self._val_state)
        self._val_outputs.append((set_id, pred, self.published_scale(y, mask.sum(-1))))

    def on_validation_epoch_end(self) -> None:
        set_id, pred, target = gather_predictions(self, self._val_outputs)
        self._val_outputs.clear()
        self._val_state = None
        value = selection_pearson(pred, target)
        # Identical on every rank (computed from the gathered set), so no further reduction.
        self.log("val/pearson", -1.0 if math.isnan(value) else value, prog_bar=True)
        self.log("val/mse", torch.mean((pred - target) ** 2).float())
        self.log("val/n", float(set_id.numel()))

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return configure_optimizer(params, self.hparams.lr, self.hparams.weight_decay,
                                   self.hparams.scheduler, self.hparams.max_epochs)


def load_set_regression(checkpoint, model_name: str, model_class: type[SetModel],
                        module_class: type[SetRegression] | None = None) -> SetRegression:
    """A trained ``model_name`` module (a ``module_class``, default :class:`SetRegression`)
    from its ``best.ckpt`` (on CPU, inputs not attached): the model is rebuilt from the saved
    ``model_config``."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    saved = state["hyper_parameters"].get("model_name")
    if saved != model_name:
        raise ValueError(f"{checkpoint} holds a {saved!r} model, not {model_name}")
    model = model_class(**state["hyper_parameters"]["model_config"])
    return (module_class or SetRegression).load_from_checkpoint(checkpoint, map_location="cpu",
                                                                model=model)


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
