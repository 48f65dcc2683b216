"""Train/validation/test splits of the interaction sets, seeded and saved as files.

Three kinds (DANGO, Methods "Evaluation"):

- ``random``: k-fold cross-validation over sets. Fold f tests on the sets of fold f.
- ``gene1``: a set of genes is held out; test = every set containing at least one of them.
- ``gene2``: test = sets made only of held-out genes; sets with some but not all genes held out
  are excluded from every role (they would leak held-out genes into training).
- ``published``: the data's own published split (column ``published_split`` of the
  interactions, e.g. DCell's training and testing files): test = the published test sets.

In ``random`` and ``published``, the non-test sets are divided into train and validation at
random (``val_fraction``). In the gene splits that would make model selection optimistic by
design — validation sets would contain only training genes while every test set has held-out
genes — so by default (``validation="heldout_genes"``) a second, disjoint set of *validation
genes* is held out: validation = the remaining sets with at least one validation gene, and
training sets contain neither test nor validation genes. Validation genes are drawn (seeded)
until about ``val_fraction`` of the remaining sets are validation sets. ``validation="random"``
restores the random validation sets (DANGO's choice).

A split file (``splits/<name>.parquet``) is long-format: one row per (set, fold) with columns
``set_id`` (row of ``interactions.parquet``), ``fold`` and ``role``
(``train``, ``val``, ``test``, ``excluded``); gene splits have the single fold 0. Because set
ids are row positions, the file records a checksum of the interactions' gene sets (Parquet
metadata ``geneint.interactions_checksum``), and readers given the interactions refuse a split
made from a different table.
"""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geneint.data.files import (
    InputFormatError,
    PathLike,
    atomic_output,
    require_columns,
)

log = logging.getLogger(__name__)

SPLIT_KINDS = ("random", "gene1", "gene2", "published")
VALIDATION_KINDS = ("heldout_genes", "random")
ROLES = ("train", "val", "test", "excluded")
SPLIT_COLUMNS = ["set_id", "fold", "role"]
CHECKSUM_KEY = b"geneint.interactions_checksum"


def interactions_checksum(interactions: pd.DataFrame) -> str:
    """Fingerprint of the gene sets of an interactions table, in row order (τ may change
    without changing what a set id means)."""
    rows = interactions[["gene_a", "gene_b", "gene_c"]].astype(str).agg("\t".join, axis=1)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def _set_genes(interactions: pd.DataFrame) -> list[list[str]]:
    cols = interactions[["gene_a", "gene_b", "gene_c"]].to_numpy()
    return [[g for g in row if g] for row in cols]


def _train_val(candidates: np.ndarray, val_fraction: float, rng: np.random.Generator,
               ) -> tuple[np.ndarray, np.ndarray]:
    shuffled = rng.permutation(candidates)
    n_val = int(round(val_fraction * len(shuffled)))
    return np.sort(shuffled[n_val:]), np.sort(shuffled[:n_val])


def _validation_genes(genes: list[list[str]], val_fraction: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Draw genes in a seeded order until the sets touching them reach ``val_fraction`` of
    ``genes`` (one gene list per set); returns the mask of those sets and the genes drawn."""
    sets_of: dict[str, list[int]] = {}
    for i, members in enumerate(genes):
        for g in members:
            sets_of.setdefault(g, []).append(i)
    touched = np.zeros(len(genes), dtype=bool)
    goal = val_fraction * len(genes)
    drawn: list[str] = []
    for g in rng.permutation(sorted(sets_of)):
        if touched.sum() >= goal:
            break
        drawn.append(str(g))
        touched[sets_of[g]] = True
    return touched, sorted(drawn)


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
               arities: tuple[int, ...] = (3,), validation: str = "heldout_genes",
               ) -> tuple[pd.DataFrame, dict]:
    """Assign every set of the chosen arities a role per fold.

    Args:
        interactions: the canonical table (row position = ``set_id``).
        kind: ``random``, ``gene1``, ``gene2`` or ``published``.
        seed: fixes every random choice (fold assignment, held-out genes, validation sets).
        folds: number of folds of the ``random`` kind.
        val_fraction: share of the non-test sets used for validation.
        heldout_genes: genes held out by the gene splits: a count (≥ 1) or a fraction.
        arities: set sizes the split covers; other rows get no role at all.
        validation: ``heldout_genes`` (gene splits: validation sets carry held-out validation
            genes) or ``random`` (random validation sets); random and published splits always
            use random validation sets.

    Returns:
        The split table and a summary (counts per role and fold, held-out genes).
    """
    if kind not in SPLIT_KINDS:
        raise ValueError(f"unknown split kind {kind!r}; choose one of {SPLIT_KINDS}")
    if validation not in VALIDATION_KINDS:
        raise ValueError(f"unknown validation {validation!r}; choose one of {VALIDATION_KINDS}")
    rng = np.random.default_rng(seed)
    set_ids = np.flatnonzero(interactions["arity"].isin(arities).to_numpy())
    if len(set_ids) < 10:
        raise ValueError(f"only {len(set_ids)} sets of arity {arities}: too few to split")
    summary: dict = {"kind": kind, "seed": seed, "sets": len(set_ids),
                     "interactions_checksum": interactions_checksum(interactions)}
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
        remaining = ~test_mask & ~excluded_mask
        if validation == "random":
            train, val = _train_val(set_ids[remaining], val_fraction, rng)
        else:
            left = np.flatnonzero(remaining)
            is_val, val_genes = _validation_genes([genes[i] for i in left], val_fraction, rng)
            train, val = set_ids[left[~is_val]], set_ids[left[is_val]]
            summary["validation_genes"] = val_genes
        frames.append(_frame(0, {"train": train, "val": val, "test": set_ids[test_mask],
                                 "excluded": set_ids[excluded_mask]}))
        summary["heldout_genes"] = sorted(held)
        summary["validation"] = validation
    table = pd.concat(frames, ignore_index=True)
    summary["roles"] = {
        int(fold): group["role"].value_counts().to_dict()
        for fold, group in table.groupby("fold")
    }
    if any(r.get("test", 0) == 0 for r in summary["roles"].values()):
        raise ValueError(f"{kind} split with seed {seed} left a fold without test sets; "
                         "hold out more genes")
    if any(r.get(role, 0) == 0 for r in summary["roles"].values() for role in ("train", "val")):
        raise ValueError(f"{kind} split with seed {seed} left a fold without training or "
                         f"validation sets: {summary['roles']}")
    return table, summary


def write_split(table: pd.DataFrame, summary: dict, path: PathLike) -> None:
    from geneint.data.files import qc_path_for, write_text_atomic

    arrow = pa.Table.from_pandas(table[SPLIT_COLUMNS], preserve_index=False)
    metadata = {**(arrow.schema.metadata or {}),
                CHECKSUM_KEY: summary["interactions_checksum"].encode()}
    with atomic_output(path) as tmp:
        pq.write_table(arrow.replace_schema_metadata(metadata), tmp)
    write_text_atomic(qc_path_for(path), json.dumps(summary, indent=2) + "\n")


def check_split_matches(path: PathLike, interactions: pd.DataFrame,
                        interactions_path: PathLike = "interactions") -> None:
    """Raise unless the split file was made from these interactions (same sets, same order)."""
    recorded = (pq.read_schema(path).metadata or {}).get(CHECKSUM_KEY)
    if recorded is None:
        raise InputFormatError(path, 0, "split file records no interactions checksum (made by "
                                        "an older geneint); rebuild it with `geneint split`")
    if recorded.decode() != interactions_checksum(interactions):
        raise InputFormatError(path, 0, f"split was made from other interactions than "
                                        f"{interactions_path} (set ids are row positions, so its "
                                        "roles would be misassigned); rebuild the split")


def read_split(path: PathLike, fold: int = 0, interactions: pd.DataFrame | None = None,
               interactions_path: PathLike = "interactions") -> dict[str, np.ndarray]:
    """Set ids per role (``train``, ``val``, ``test``) of one fold of a split file; with
    ``interactions``, first check that the split was made from them."""
    if interactions is not None:
        check_split_matches(path, interactions, interactions_path)
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
