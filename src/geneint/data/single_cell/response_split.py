"""GEARS' "simulation" split of perturbations (``DataSplitter.split_data(split_type=
'simulation')``), reproduced draw for draw: the same seed gives the same sets as GEARS.

A fraction ``train_gene_set_size`` of the perturbed genes is drawn as training genes; every
single perturbation of another gene is held out (``unseen_single``). Double perturbations are
held out when one of their genes is unseen (``combo_seen1``) or both are (``combo_seen0``); of
the doubles of two training genes, a fraction ``1 − combo_seen2_train_frac`` is held out
(``combo_seen2``). The training perturbations are split once more the same way (0.9 / 0.9) into
training and validation. Controls train. Whole perturbations move, never single cells, so a
held-out perturbation has no cell in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, require_columns, write_text_atomic
from geneint.data.single_cell.gears_format import CTRL, condition_genes, is_double

SUBGROUPS = ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2")


@dataclass(frozen=True)
class ResponseSplitSettings:
    train_gene_set_size: float = 0.75
    combo_seen2_train_frac: float = 0.75
    seed: int = 1


def perturbed_genes(perturbations) -> np.ndarray:
    return np.unique([g for p in np.unique(perturbations) for g in condition_genes(p)])


def _with_genes(genes, perturbations, double: bool) -> list[str]:
    """The single (or double) perturbations that knock down any of ``genes``, in order."""
    genes = set(genes)
    return [p for p in perturbations if is_double(p) == double
            and any(g in genes for g in condition_genes(p))]


def simulation_split(perturbations: list[str], train_gene_set_size: float,
                     combo_seen2_train_frac: float, seed: int
                     ) -> tuple[list[str], dict[str, list[str]]]:
    """(training perturbations, held-out perturbations by subgroup); GEARS'
    ``get_simulation_split``."""
    genes = perturbed_genes(perturbations)
    rng = np.random.RandomState(seed)   # GEARS seeds numpy's global legacy generator
    train_genes = rng.choice(genes, int(len(genes) * train_gene_set_size), replace=False)
    unseen_genes = np.setdiff1d(genes, train_genes)
    train = _with_genes(train_genes, perturbations, double=False)
    combos = _with_genes(train_genes, perturbations, double=True)
    seen = set(train_genes)
    combo_seen1 = [p for p in combos if sum(g in seen for g in condition_genes(p)) == 1]
    both_seen = np.setdiff1d(combos, combo_seen1)
    rng = np.random.RandomState(seed)
    combo_train = rng.choice(both_seen, int(len(both_seen) * combo_seen2_train_frac),
                             replace=False) if len(both_seen) else np.array([], dtype=str)
    combo_seen2 = np.setdiff1d(both_seen, combo_train).tolist()
    train.extend(combo_train.tolist())
    combo_seen0 = [p for p in _with_genes(unseen_genes, perturbations, double=True)
                   if not any(g in seen for g in condition_genes(p))]
    held_out = {"unseen_single": _with_genes(unseen_genes, perturbations, double=False),
                "combo_seen0": combo_seen0, "combo_seen1": combo_seen1,
                "combo_seen2": combo_seen2}
    assert sum(map(len, held_out.values())) + len(train) == len(perturbations)
    return train, held_out


def split_perturbations(conditions, settings: ResponseSplitSettings = ResponseSplitSettings()
                        ) -> pd.DataFrame:
    """One row per condition: ``split`` (train / val / test) and ``subgroup``."""
    perturbations = [p for p in pd.unique(pd.Series(conditions).astype(str)) if p != CTRL]
    train, test = simulation_split(perturbations, settings.train_gene_set_size,
                                   settings.combo_seen2_train_frac, settings.seed)
    train, val = simulation_split(train, 0.9, 0.9, settings.seed)
    rows = [(CTRL, "train", "control")] + [(p, "train", "train") for p in train]
    for split, groups in (("val", val), ("test", test)):
        rows += [(p, split, group) for group in SUBGROUPS for p in groups[group]]
    return pd.DataFrame(rows, columns=["condition", "split", "subgroup"])


def write_response_split(split: pd.DataFrame, path: PathLike) -> None:
    write_text_atomic(path, split.to_csv(sep="\t", index=False))


def read_response_split(path: PathLike, conditions=None) -> pd.DataFrame:
    """The split table; with ``conditions``, checked to cover each of them exactly once."""
    split = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    require_columns(split, ["condition", "split", "subgroup"], path)
    bad = split[~split["split"].isin(["train", "val", "test"])]
    if len(bad):
        raise InputFormatError(path, int(bad.index[0]) + 2,
                               f"split {bad['split'].iloc[0]!r} is not train, val or test")
    if conditions is not None:
        missing = sorted(set(pd.Series(conditions).astype(str)) - set(split["condition"]))
        if missing or split["condition"].duplicated().any():
            raise InputFormatError(path, 0, f"does not list each condition of the data once"
                                   f" (missing e.g. {missing[:3]}); was it made from another"
                                   " file?")
    return split
