"""Interaction sets of a split fold as tensors: what every model trains on, neural or not.

Light on imports (torch, pandas; no Lightning), so that estimators and evaluation start fast.
Files read: ``interactions.parquet``, ``genes.tsv``, a split file, and the graph ``.npz`` files
of the networks in use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from geneint.data.canonical import read_gene_index, read_interactions
from geneint.data.files import PathLike
from geneint.data.splits import read_split
from geneint.graphs.network import NetworkGraph, read_graph

log = logging.getLogger(__name__)

GENE_COLUMNS = ["gene_a", "gene_b", "gene_c"]


@dataclass
class TrainingInputs:
    """The canonical files a model is trained from, and where its outputs go.

    ``graphs``, ``pretrained``, ``ontology`` and ``metabolism`` (the folder of the metabolism
    stage) hold what the model needs (the registry's ``needs``), else stay empty.
    ``shuffle_labels`` is the negative control (see :class:`InteractionDataModule`).
    """

    interactions: PathLike
    genes: PathLike
    split: PathLike
    fold: int
    out_dir: PathLike
    work_dir: PathLike | None = None
    graphs: list[PathLike] = field(default_factory=list)
    pretrained: list[PathLike] = field(default_factory=list)
    ontology: PathLike | None = None
    metabolism: PathLike | None = None
    seed: int = 0
    shuffle_labels: bool = False


@dataclass
class SetTensors:
    """Interaction sets as padded index tensors (width S = the largest set size present).

    Attributes:
        genes: (n, S) int64 node ids; padding positions hold 0 and are masked out.
        mask: (n, S) bool, True for real genes.
        tau: (n,) float32, τ on the published scale.
        set_id: (n,) int64 row of ``interactions.parquet``.
        tau_noise_free: (n,) float32 or None.
    """

    genes: Tensor
    mask: Tensor
    tau: Tensor
    set_id: Tensor
    tau_noise_free: Tensor | None = None

    def subset(self, rows: np.ndarray) -> SetTensors:
        idx = torch.as_tensor(rows, dtype=torch.long)
        return SetTensors(self.genes[idx], self.mask[idx], self.tau[idx], self.set_id[idx],
                          None if self.tau_noise_free is None else self.tau_noise_free[idx])


def set_tensors(interactions: pd.DataFrame, genes: list[str]) -> SetTensors:
    """Map every set of the canonical table onto node ids (set_id = row position); pairs and
    triples share one padded width when both are present."""
    width = int(interactions["arity"].max()) if len(interactions) else 2
    names = interactions[GENE_COLUMNS[:width]].to_numpy(dtype=object)
    mask = names != ""
    codes = pd.Index(genes).get_indexer(names.ravel()).reshape(names.shape)  # -1: not a gene
    unknown = mask & (codes < 0)
    if unknown.any():
        r, c = np.argwhere(unknown)[0]
        raise ValueError(f"interaction set {r} has gene {names[r, c]!r}, which is not in the "
                         "gene index; rebuild interactions.parquet from this genes.tsv")
    index = np.where(mask, codes, 0).astype(np.int64)
    noise_free = None
    if "tau_noise_free" in interactions:
        noise_free = torch.as_tensor(interactions["tau_noise_free"].to_numpy(np.float32))
    return SetTensors(
        genes=torch.from_numpy(index), mask=torch.from_numpy(mask),
        tau=torch.as_tensor(interactions["tau"].to_numpy(np.float32)),
        set_id=torch.arange(len(interactions), dtype=torch.long), tau_noise_free=noise_free,
    )


def load_graphs(paths: list[PathLike], genes: list[str]) -> list[NetworkGraph]:
    graphs = [read_graph(p, genes) for p in paths]
    names = [g.name for g in graphs]
    if len(set(names)) != len(names):
        raise ValueError(f"the same network is given twice: {names}")
    return graphs


@dataclass(frozen=True)
class TauScale:
    """Standardisation of τ per arity: each arity's own training mean and sd.

    Pairs (ε) and triples (τ) are different quantities on different scales; one shared scaler
    would let the more numerous arity set the other's scale. ``by_arity`` maps arity →
    (mean, sd); it is stored with a trained model as ``{"2": [mean, sd], …}``.
    """

    by_arity: dict[int, tuple[float, float]]

    @classmethod
    def fit(cls, tau: Tensor, arity: Tensor) -> TauScale:
        by_arity = {}
        for a in sorted(int(x) for x in arity.unique()):
            values = tau[arity == a].double()
            sd = float(values.std()) if len(values) > 1 else 0.0
            by_arity[a] = (float(values.mean()), sd if sd > 0 else 1.0)
        return cls(by_arity)

    @classmethod
    def from_json(cls, saved: dict[str, list[float]]) -> TauScale:
        return cls({int(a): (float(m), float(s)) for a, (m, s) in saved.items()})

    def to_json(self) -> dict[str, list[float]]:
        return {str(a): [m, s] for a, (m, s) in self.by_arity.items()}

    def _columns(self, arity: Tensor, like: Tensor) -> tuple[Tensor, Tensor]:
        unknown = set(int(a) for a in arity.unique()) - set(self.by_arity)
        if unknown:
            raise ValueError(f"sets of arity {sorted(unknown)}: the model was trained on "
                             f"arities {sorted(self.by_arity)} only")
        size = max(self.by_arity) + 1
        mean = torch.zeros(size, dtype=like.dtype, device=like.device)
        sd = torch.ones(size, dtype=like.dtype, device=like.device)
        for a, (m, s) in self.by_arity.items():
            mean[a], sd[a] = m, s
        arity = arity.to(like.device, torch.long)
        return mean[arity], sd[arity]

    def standardise(self, tau: Tensor, arity: Tensor) -> Tensor:
        mean, sd = self._columns(arity, tau)
        return (tau - mean) / sd

    def published(self, pred: Tensor, arity: Tensor) -> Tensor:
        mean, sd = self._columns(arity, pred)
        return pred * sd + mean


@dataclass
class SplitSets:
    """The sets of one split fold: ``sets[role]`` for train, val and test, the interactions
    table they index (``frame``), the gene index, and the training sets' τ scale per arity."""

    frame: pd.DataFrame
    gene_names: list[str]
    sets: dict[str, SetTensors]
    tau_scale: TauScale


def load_split_sets(interactions: PathLike, genes: PathLike, split: PathLike, fold: int = 0,
                    shuffle_labels: bool = False, seed: int = 0) -> SplitSets:
    """Read the canonical files of one split fold.

    ``shuffle_labels`` permutes τ among the training sets and among the validation sets (a
    negative control: nothing a model sees links genes to τ; test labels stay true), seeded by
    ``seed``.
    """
    gene_names = read_gene_index(genes)
    frame = read_interactions(interactions)
    tensors = set_tensors(frame, gene_names)
    roles = read_split(split, fold, frame, interactions)
    sets = {role: tensors.subset(roles[role]) for role in ("train", "val", "test")}
    if shuffle_labels:
        # Validation too: model selection on true labels would leak them into the control.
        rng = np.random.default_rng(seed)
        for role in ("train", "val"):
            sets[role].tau = sets[role].tau[torch.from_numpy(rng.permutation(len(sets[role].tau)))]
    train = sets["train"]
    loaded = SplitSets(frame, gene_names, sets, TauScale.fit(train.tau, train.mask.sum(-1)))
    log.info("sets: %s (fold %d); τ (mean, sd) by arity %s",
             {r: len(s.tau) for r, s in sets.items()}, fold, loaded.tau_scale.by_arity)
    return loaded
