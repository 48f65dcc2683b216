"""DataModules: interaction sets with their split roles, and genes for pretraining.

Nothing downloads here (that is a workflow stage). Files read: ``interactions.parquet``,
``genes.tsv``, a split file, and the graph ``.npz`` files of the networks in use.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Sampler, TensorDataset

from geneint.data.canonical import read_gene_index, read_interactions
from geneint.data.files import PathLike
from geneint.data.splits import read_split
from geneint.graphs.network import NetworkGraph, read_graph

log = logging.getLogger(__name__)

GENE_COLUMNS = ["gene_a", "gene_b", "gene_c"]


@dataclass
class TrainingInputs:
    """The canonical files a model is trained from, and where its outputs go.

    ``graphs`` and ``pretrained`` hold what the model needs (the registry's ``needs``), else
    stay empty. ``shuffle_labels`` is the negative control (see :class:`InteractionDataModule`).
    """

    interactions: PathLike
    genes: PathLike
    split: PathLike
    fold: int
    out_dir: PathLike
    work_dir: PathLike | None = None
    graphs: list[PathLike] = field(default_factory=list)
    pretrained: list[PathLike] = field(default_factory=list)
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


class InteractionDataModule(L.LightningDataModule):
    """Train/val/test interaction sets of one split fold.

    Targets are standardised with the training sets' mean and sd (``tau_mean``, ``tau_std``);
    predictions are mapped back to the published scale before any metric is computed.

    Args:
        interactions: path of ``interactions.parquet``.
        genes: path of ``genes.tsv``.
        split: path of a split file; ``fold`` selects the fold.
        batch_size: sets per step (per process under DDP).
        shuffle_labels: permute τ among the training sets and among the validation sets (a
            negative control: nothing the model sees links genes to τ; test labels stay true).
        seed: seeds the label permutation (loader shuffling follows Lightning's global seed).
    """

    def __init__(self, interactions: PathLike, genes: PathLike, split: PathLike, fold: int = 0,
                 batch_size: int = 256, shuffle_labels: bool = False, seed: int = 0,
                 num_workers: int = 0) -> None:
        super().__init__()
        self.paths = (Path(interactions), Path(genes), Path(split))
        self.fold = fold
        self.batch_size = batch_size
        self.shuffle_labels = shuffle_labels
        self.seed = seed
        self.num_workers = num_workers
        self.sets: dict[str, SetTensors] = {}
        self.frame: pd.DataFrame | None = None
        self.gene_names: list[str] = []

    def setup(self, stage: str | None = None) -> None:
        if self.sets:
            return
        interactions_path, genes_path, split_path = self.paths
        self.gene_names = read_gene_index(genes_path)
        self.frame = read_interactions(interactions_path)
        tensors = set_tensors(self.frame, self.gene_names)
        roles = read_split(split_path, self.fold)
        self.sets = {role: tensors.subset(roles[role]) for role in ("train", "val", "test")}
        train = self.sets["train"]
        if self.shuffle_labels:
            # Validation too: model selection on true labels would leak them into the control.
            rng = np.random.default_rng(self.seed)
            for role in ("train", "val"):
                sets = self.sets[role]
                sets.tau = sets.tau[torch.from_numpy(rng.permutation(len(sets.tau)))]
        self.tau_mean = float(train.tau.mean())
        self.tau_std = float(train.tau.std()) or 1.0
        log.info("sets: %s (fold %d); τ mean %.4f sd %.4f",
                 {r: len(s.tau) for r, s in self.sets.items()}, self.fold, self.tau_mean,
                 self.tau_std)

    def _dataset(self, role: str) -> TensorDataset:
        s = self.sets[role]
        return TensorDataset(s.genes, s.mask, (s.tau - self.tau_mean) / self.tau_std, s.set_id)

    def _loader(self, role: str, shuffle: bool) -> DataLoader:
        return DataLoader(self._dataset(role), batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


class EvenBatches(Sampler[Tensor]):
    """Each epoch, a fresh permutation of 0..n-1 (torch's global RNG, so seeded runs repeat)
    cut into ceil(n / batch_size) batches whose sizes differ by at most one.

    No runt last batch: with 6,608 genes and batches of 6,607 the usual split leaves a batch of
    one gene, and Adam takes as large a step on it as on the full batch — measured, that stalled
    full-batch pretraining at twice the loss."""

    def __init__(self, num_items: int, batch_size: int) -> None:
        if num_items < 1 or batch_size < 1:
            raise ValueError(f"need num_items >= 1 and batch_size >= 1, got {num_items}, "
                             f"{batch_size}")
        self.num_items = num_items
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(self.num_items / self.batch_size)

    def __iter__(self):
        yield from torch.randperm(self.num_items).tensor_split(len(self))


class GeneDataModule(L.LightningDataModule):
    """Gene ids 0..G-1 in shuffled, even batches (:class:`EvenBatches`): the rows a
    reconstruction head learns."""

    def __init__(self, num_genes: int, batch_size: int = 96) -> None:
        super().__init__()
        self.num_genes = num_genes
        self.batch_size = batch_size

    def train_dataloader(self) -> DataLoader:
        # Whole batches are indexed at once: with the sparse loss a batch can hold every gene,
        # and collating thousands of 0-d tensors one by one would cost more than the step.
        genes = TensorDataset(torch.arange(self.num_genes))
        return DataLoader(genes, batch_size=None,
                          sampler=EvenBatches(self.num_genes, self.batch_size))
