"""DataModules: interaction sets with their split roles (for set models), and genes (for
pretraining). Nothing downloads here (that is a workflow stage); the files are read by
:func:`geneint.train.sets.load_split_sets`.
"""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Sampler, TensorDataset

from geneint.data.files import PathLike
from geneint.train.sets import SetTensors, load_split_sets


class InteractionDataModule(L.LightningDataModule):
    """Train/val/test interaction sets of one split fold.

    Targets are standardised per arity with the training sets' mean and sd (``tau_scale``, a
    :class:`~geneint.train.sets.TauScale`); predictions are mapped back to the published scale
    before any metric is computed.

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
        self.frame = None
        self.gene_names: list[str] = []

    def setup(self, stage: str | None = None) -> None:
        if self.sets:
            return
        loaded = load_split_sets(*self.paths, self.fold, self.shuffle_labels, self.seed)
        self.frame, self.gene_names, self.sets = loaded.frame, loaded.gene_names, loaded.sets
        self.tau_scale = loaded.tau_scale

    def _dataset(self, role: str) -> TensorDataset:
        s = self.sets[role]
        y = self.tau_scale.standardise(s.tau, s.mask.sum(-1))
        return TensorDataset(s.genes, s.mask, y, s.set_id)

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
