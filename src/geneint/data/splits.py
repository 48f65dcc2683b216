"""Train/validation/test splits of the interaction sets, seeded and saved as files.

Three kinds (DANGO, Methods "Evaluation"):

- ``random``: k-fold cross-validation over sets. Fold f tests on the sets of fold f.
- ``gene1``: a set of genes is held out; test = every set containing at least one of them.
- ``gene2``: test = sets made only of held-out genes; sets with some but not all genes held out
  are excluded from every role (they would leak held-out genes into training).
- ``published``: the data's own published split (column ``published_split`` of the
  interactions, e.g. DCell's training and testing files): test = the published test sets.

In every kind, the non-test, non-excluded sets are divided into train and validation at random
(``val_fraction``). A split file (``splits/<name>.parquet``) is long-format: one row per
(set, fold) with columns ``set_id`` (row of ``interactions.parquet``), ``fold`` and ``role``
(``train``, ``val``, ``test``, ``excluded``); gene splits have the single fold 0.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    require_columns,
    write_parquet_atomic,
)

log = logging.getLogger(__name__)

SPLIT_KINDS = ("random", "gene1", "gene2", "published")
ROLES = ("train", "val", "test", "excluded")
SPLIT_COLUMNS = ["set_id", "fold", "role"]


def _set_genes(interactions: pd.DataFrame) -> list[list[str]]:
    cols = interactions[["gene_a", "gene_b", "gene_c"]].to_numpy()
    return [[g for g in row if g] for row in cols]


def _train_val(candidates: np.ndarray, val_fraction: float, rng: np.random.Generator,
               ) -> tuple[np.ndarray, np.ndarray]:
    shuffled = rng.permutation(candidates)
    n_val = int(round(val_fraction * len(shuffled)))
    return np.sort(shuffled[n_val:]), np.sort(shuffled[:n_val])


def _frame(fold: int, roles: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = [pd.DataFrame({"set_id": ids.astype(np.int64), "fold": np.int16(fold), "role": role})
             for role, ids in roles.items() if len(ids)]
    return pd.concat(parts, ignore_index=True)


def heldout_gene_count(n_genes: int, heldout: float) -> int:
    """``heldout`` ≥ 1 is a number of genes; in (0, 1) a fraction of the genes."""
    count = int(heldout) if heldout >= 1 else int(round(heldout * n_genes))
    if not 1 <= count < n_genes:
        raise ValueError(f"cannot hold out {heldout} of {n_genes} genes")
    return count


def make_split(interactions: pd.DataFrame, kind: str, seed: int, folds: int = 5,
               val_fraction: float = 0.1, heldout_genes: float = 40,
               arities: tuple[int, ...] = (3,)) -> tuple[pd.DataFrame, dict]:
    """Assign every set of the chosen arities a role per fold.

    Args:
        interactions: the canonical table (row position = ``set_id``).
        kind: ``random``, ``gene1``, ``gene2`` or ``published``.
        seed: fixes every random choice (fold assignment, held-out genes, validation sets).
        folds: number of folds of the ``random`` kind.
        val_fraction: share of the non-test sets used for validation.
        heldout_genes: genes held out by the gene splits: a count (≥ 1) or a fraction.
        arities: set sizes the split covers; other rows get no role at all.

    Returns:
        The split table and a summary (counts per role and fold, held-out genes).
    """
    if kind not in SPLIT_KINDS:
        raise ValueError(f"unknown split kind {kind!r}; choose one of {SPLIT_KINDS}")
    rng = np.random.default_rng(seed)
    set_ids = np.flatnonzero(interactions["arity"].isin(arities).to_numpy())
    if len(set_ids) < 10:
        raise ValueError(f"only {len(set_ids)} sets of arity {arities}: too few to split")
    summary: dict = {"kind": kind, "seed": seed, "sets": len(set_ids)}
    frames = []
    if kind == "random":
        if folds < 2:
            raise ValueError("random split needs at least 2 folds")
        fold_of = rng.permutation(len(set_ids)) % folds
        for fold in range(folds):
            test = set_ids[fold_of == fold]
            train, val = _train_val(set_ids[fold_of != fold], val_fraction, rng)
            frames.append(_frame(fold, {"train": train, "val": val, "test": test}))
    elif kind == "published":
        if "published_split" not in interactions:
            raise ValueError("split kind 'published' needs interactions with a published "
                             "train/test split (column published_split, e.g. from the DCell "
                             "training and testing files)")
        is_test = (interactions["published_split"].to_numpy() == "test")[set_ids]
        train, val = _train_val(set_ids[~is_test], val_fraction, rng)
        frames.append(_frame(0, {"train": train, "val": val, "test": set_ids[is_test]}))
    else:
        genes = _set_genes(interactions.iloc[set_ids])
        universe = np.array(sorted({g for s in genes for g in s}))
        n_held = heldout_gene_count(len(universe), heldout_genes)
        held = set(rng.choice(universe, size=n_held, replace=False).tolist())
        n_in = np.array([sum(g in held for g in s) for s in genes])
        size = np.array([len(s) for s in genes])
        if kind == "gene1":
            test_mask, excluded_mask = n_in >= 1, np.zeros(len(set_ids), bool)
        else:
            test_mask = n_in == size
            excluded_mask = (n_in > 0) & ~test_mask
        train, val = _train_val(set_ids[~test_mask & ~excluded_mask], val_fraction, rng)
        frames.append(_frame(0, {"train": train, "val": val, "test": set_ids[test_mask],
                                 "excluded": set_ids[excluded_mask]}))
        summary["heldout_genes"] = sorted(held)
    table = pd.concat(frames, ignore_index=True)
    summary["roles"] = {
        int(fold): group["role"].value_counts().to_dict()
        for fold, group in table.groupby("fold")
    }
    if any(r.get("test", 0) == 0 for r in summary["roles"].values()):
        raise ValueError(f"{kind} split with seed {seed} left a fold without test sets; "
                         "hold out more genes")
    return table, summary


def write_split(table: pd.DataFrame, summary: dict, path: PathLike) -> None:
    from geneint.data.files import qc_path_for, write_text_atomic

    write_parquet_atomic(table[SPLIT_COLUMNS], path)
    write_text_atomic(qc_path_for(path), json.dumps(summary, indent=2) + "\n")


def read_split(path: PathLike, fold: int = 0) -> dict[str, np.ndarray]:
    """Set ids per role (``train``, ``val``, ``test``) of one fold of a split file."""
    table = pd.read_parquet(path)
    require_columns(table, SPLIT_COLUMNS, path)
    table = table[table["fold"] == fold]
    if table.empty:
        raise InputFormatError(path, 0, f"no fold {fold} in this split")
    roles = {role: np.sort(group["set_id"].to_numpy(np.int64))
             for role, group in table.groupby("role")}
    for role in ("train", "val", "test"):
        if role not in roles:
            raise InputFormatError(path, 0, f"fold {fold} has no {role} sets")
    return roles
