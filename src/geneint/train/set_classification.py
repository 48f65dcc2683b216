"""The LightningModule of set classifiers: interaction classes of gene sets
(:class:`~geneint.data.interaction_classes.InteractionClasses`), trained with class-weighted
cross-entropy.

:class:`SetClassification` is a :class:`~geneint.train.set_regression.SetRegression` whose model
returns logits :math:`(B, C)` instead of τ̂, so DDP, checkpoints, requeue, the outputs and the
fitting loop (:mod:`geneint.train.neural`) are the same. Labels are the classes of the measured
τ (on the published scale, per arity). Checkpoints are selected, and training stopped, on the
validation loss (class-weighted cross-entropy); validation macro F1, accuracy and Pearson (of
the expected τ below) are logged too.

Labels are looked up by set id (:meth:`SetClassification.set_labels`, from the data module's τ,
permuted for the shuffled-label control), not recomputed from the standardised training target,
so a τ on a class edge gets the class evaluation gives it.

Class weights (balanced: n / (C·n_c)) make every class weigh the same in the loss, so the rare
strong classes are learned; the logits then fit the reweighted posterior p_w(c) ∝ w_c · p(c).
The probabilities the classifier reports are corrected back, p(c) ∝ p_w(c) / w_c (the
"logit adjustment" of Menon et al. 2021, softmax(logits − log w)), and its class is the most
probable one. On the demo (random split, 1-hop samples) the uncorrected argmax called a third
of the neutral sets positive: test macro F1 0.299, no better than always "neutral" (0.300);
corrected, 0.421.

Predictions: the class probabilities (``prob_<class>`` columns) and, so that every regression
metric is defined for the classifier too, ``tau_pred`` = the expected τ
under them, :math:`\\hat\\tau = \\sum_c p_c\\,\\bar\\tau_c` with :math:`\\bar\\tau_c` the mean
measured τ of the training sets of class :math:`c`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from geneint.data.interaction_classes import InteractionClasses
from geneint.models.base import SetModel
from geneint.train.objectives import selection_macro_f1, selection_pearson
from geneint.train.set_regression import SetRegression, gather_predictions


class SetClassification(SetRegression):
    """Train a :class:`~geneint.models.base.SetModel` that returns class logits.

    Args:
        model, model_name, model_config, tau_scale, lr, weight_decay, scheduler, max_epochs,
            input_names: as :class:`SetRegression`.
        classes: :meth:`InteractionClasses.to_json` of the classes.
        class_weights: cross-entropy weight per class (e.g. balanced for the imbalance).
        class_tau: mean measured τ of each class's training sets (for ``tau_pred``).
    """

    # The class-weighted cross-entropy: macro F1 jumps between epochs with a few sets of the
    # rare classes (on the demo's validation sets 0.18 → 0.45 → 0.19 while the loss fell).
    selection_metric = "val/loss"
    selection_mode = "min"

    def __init__(self, model: SetModel, model_name: str, model_config: dict[str, Any],
                 classes: dict[str, Any], class_weights: Sequence[float],
                 class_tau: Sequence[float], tau_scale: dict[str, list[float]] | None = None,
                 lr: float = 1e-3, weight_decay: float = 1e-4, scheduler: str = "cosine",
                 max_epochs: int = 50, input_names: Sequence[str] = ()) -> None:
        super().__init__(model, model_name, model_config, tau_scale=tau_scale, lr=lr,
                         weight_decay=weight_decay, scheduler=scheduler, max_epochs=max_epochs,
                         input_names=input_names)
        self.classes = InteractionClasses.from_json(classes)
        if len(class_weights) != self.classes.num_classes or len(class_tau) != len(
                class_weights):
            raise ValueError(f"{self.classes.num_classes} classes, {len(class_weights)} class "
                             f"weights and {len(class_tau)} class means")
        self.register_buffer("class_weights", torch.tensor(class_weights, dtype=torch.float32))
        self.register_buffer("class_tau", torch.tensor(class_tau, dtype=torch.float32))
        self._labels: Tensor | None = None

    def set_labels(self, labels_by_set: Tensor) -> None:
        """The class of every set, indexed by set id (−1 where a set is in no role)."""
        self._labels = labels_by_set.long()

    def labels(self, set_id: Tensor) -> Tensor:
        if self._labels is None:
            raise RuntimeError("set_labels() was not called: the classifier has no labels")
        labels = self._labels[set_id.cpu()].to(set_id.device)
        if bool((labels < 0).any()):
            raise ValueError("a set of the batch has no class label")
        return labels

    def probabilities(self, genes: Tensor, mask: Tensor, state: Any = None) -> Tensor:
        """Class probabilities, corrected for the class weights of training (module
        docstring)."""
        if state is None:
            state = self.prepare()
        return self.calibrated(self._score(state, genes, mask)[0])

    def calibrated(self, logits: Tensor) -> Tensor:
        """softmax(logits − log w): the weighted loss fits p_w(c) ∝ w_c · p(c); dividing by
        w_c gives back probabilities at the training class frequencies (a class absent from
        training, weight 0, gets probability 0)."""
        weights = self.class_weights.to(logits.device)
        shift = torch.where(weights > 0, -torch.log(weights.clamp_min(1e-30)), -torch.inf)
        return torch.softmax(logits + shift, dim=-1)

    def prediction_columns(self, genes: Tensor, mask: Tensor, state: Any) -> dict[str, Tensor]:
        prob = self.probabilities(genes, mask, state)
        columns = {"tau_pred": (prob @ self.class_tau).double()}
        columns.update({f"prob_{name}": prob[:, c] for c, name in enumerate(self.classes.names)})
        return columns

    def predict_sets(self, genes: Tensor, mask: Tensor, state: Any = None) -> Tensor:
        """The expected τ under the predicted class probabilities (module docstring)."""
        return self.probabilities(genes, mask, state) @ self.class_tau

    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> Tensor:
        genes, mask, y, set_id = batch
        logits = self._score(self.model.prepare(self.inputs()), genes, mask)[0]
        loss = F.cross_entropy(logits, self.labels(set_id), weight=self.class_weights)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=len(y), sync_dist=True)
        return loss

    def validation_step(self, batch: Sequence[Tensor], batch_idx: int) -> None:
        genes, mask, y, set_id = batch
        logits = self._score(self._val_state, genes, mask)[0]
        prob = self.calibrated(logits)
        self._val_outputs.append((set_id, logits, prob, self.labels(set_id).float(),
                                  prob @ self.class_tau, self.published_scale(y, mask.sum(-1))))

    def on_validation_epoch_end(self) -> None:
        set_id, logits, prob, labels, tau_pred, tau = gather_predictions(self,
                                                                         self._val_outputs)
        self._val_outputs.clear()
        self._val_state = None
        if set_id.numel():
            labels = labels.long()
            f1 = selection_macro_f1(prob.argmax(-1), labels, self.classes.num_classes)
            # The training objective (weighted, on the uncorrected logits).
            loss = F.cross_entropy(logits, labels, weight=self.class_weights.to(logits.device))
            accuracy = float((prob.argmax(-1) == labels).float().mean())
        else:
            f1, loss, accuracy = math.nan, torch.tensor(math.nan), math.nan
        pearson = selection_pearson(tau_pred, tau)
        # Identical on every rank (computed from the gathered sets), so no further reduction.
        self.log("val/loss", loss.float(), prog_bar=True)
        self.log("val/macro_f1", -1.0 if math.isnan(f1) else f1, prog_bar=True)
        self.log("val/accuracy", accuracy)
        self.log("val/pearson", -1.0 if math.isnan(pearson) else pearson)
        self.log("val/n", float(set_id.numel()))
