"""FBA in the sweep: deletion growth computed in chunks (``geneint fba growth``, one job per
chunk), then τ̂ of every set of the split from the combined tables (``geneint train fba``).

Nothing is fitted: train, validation and test sets are all scored from the metabolic model,
so FBA's numbers sit beside the trained models' on the same splits and metrics. The growth
tables depend only on the interaction sets and the model, so every split, fold and seed shares
them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.canonical import read_interactions
from geneint.data.files import (
    InputFormatError,
    PathLike,
    atomic_output,
    require_columns,
    write_text_atomic,
)
from geneint.models.fba import (
    DeletionFitness,
    GeneSet,
    gene_set,
    kuzmin_scores,
    plan_chunks,
    required_gene_sets,
)
from geneint.train.predictions import PREDICTION_ROLES, predictions_frame, write_predictions
from geneint.train.sets import TrainingInputs, load_split_sets

log = logging.getLogger(__name__)

GROWTH_COLUMNS = ["genes", "fitness"]


def growth_table(fitness: Callable[[GeneSet], float], gene_sets: Iterable[GeneSet]
                 ) -> pd.DataFrame:
    """Fitness of each set: columns ``genes`` (sorted, ``;``-joined) and ``fitness``."""
    sets = [gene_set(s) for s in gene_sets]
    return pd.DataFrame({"genes": [";".join(s) for s in sets],
                         "fitness": np.array([fitness(s) for s in sets], dtype=np.float64)})


def write_growth_table(frame: pd.DataFrame, path: PathLike) -> None:
    """Write a growth table as ``.parquet`` or ``.tsv`` (by suffix), atomically."""
    path = Path(path)
    with atomic_output(path) as tmp:
        if path.suffix == ".parquet":
            frame[GROWTH_COLUMNS].to_parquet(tmp, index=False)
        else:  # repr-exact floats, so a TSV chunk combines like a parquet one
            frame[GROWTH_COLUMNS].to_csv(tmp, sep="\t", index=False, float_format="%.17g")


def read_growth_tables(paths: Iterable[PathLike]) -> dict[GeneSet, float]:
    """Combine growth tables (parquet or TSV) into ``{sorted gene tuple: fitness}``.

    A set in several tables must have the same fitness in each (within 1e-9)."""
    combined: dict[GeneSet, float] = {}
    for path in paths:
        path = Path(path)
        frame = (pd.read_parquet(path) if path.suffix == ".parquet" else
                 pd.read_csv(path, sep="\t", dtype={"genes": str}, keep_default_na=False))
        require_columns(frame, GROWTH_COLUMNS, path)
        for i, (genes, value) in enumerate(zip(frame["genes"], frame["fitness"], strict=True)):
            key = gene_set(str(genes).split(";"))
            value = float(value)
            if not np.isfinite(value) or value < 0:
                raise InputFormatError(path, i + 2, f"fitness {value} of {genes!r} is not a "
                                                    "finite non-negative number")
            if key in combined and abs(combined[key] - value) > 1e-9:
                raise InputFormatError(path, i + 2, f"{genes!r} has fitness {value} here but "
                                                    f"{combined[key]} in an earlier table")
            combined[key] = value
    return combined


def _lookup(fitness: Mapping[GeneSet, float] | Callable[[GeneSet], float],
            model_genes: Collection[str] | None) -> Callable[[GeneSet], float]:
    if callable(fitness):
        return fitness
    keep = None if model_genes is None else set(model_genes)

    def get(genes: GeneSet) -> float:
        key = genes if keep is None else tuple(g for g in genes if g in keep)
        if not key:
            return 1.0
        try:
            return fitness[key]
        except KeyError:
            raise KeyError(f"no fitness for {';'.join(key)}: compute every set of "
                           "required_gene_sets() (with the same model_genes)") from None
    return get


def interaction_scores(sets: pd.DataFrame,
                       fitness: Mapping[GeneSet, float] | Callable[[GeneSet], float],
                       model_genes: Collection[str] | None = None) -> pd.DataFrame:
    """Kuzmin's ε (pairs) and τ (triples) for every row of ``sets`` (columns ``gene_a``,
    ``gene_b``, ``gene_c``; ``gene_c`` empty for pairs).

    ``fitness`` is a :class:`DeletionFitness` (or any callable on sorted gene tuples), or the
    mapping of :func:`read_growth_tables`; with a mapping, ``model_genes`` must match what
    :func:`required_gene_sets` was given. Returns, in the row order of ``sets``, the fitness
    of every subset (``f_a`` … ``f_abc``; a pair's missing gene has fitness 1), ``eps_ab``,
    ``eps_ac``, ``eps_bc`` and ``tau`` (ε_ab for pairs, τ for triples).
    """
    get = _lookup(fitness, model_genes)
    a, b = sets["gene_a"].astype(str).tolist(), sets["gene_b"].astype(str).tolist()
    c = (sets["gene_c"].fillna("").astype(str).tolist() if "gene_c" in sets else [""] * len(a))
    cols = {name: np.array([get(gene_set(genes)) for genes in zip(*parts, strict=True)],
                           dtype=np.float64)
            for name, parts in (("f_a", (a,)), ("f_b", (b,)), ("f_c", (c,)), ("f_ab", (a, b)),
                                ("f_ac", (a, c)), ("f_bc", (b, c)), ("f_abc", (a, b, c)))}
    triple = np.array([g != "" for g in c])
    out = pd.DataFrame(cols, index=sets.index)
    for name, values in kuzmin_scores(cols, triple).items():
        out[name] = values
    return out




def compute_growth_chunk(interactions: PathLike, model_dir: PathLike, chunk: int, chunks: int,
                         out: PathLike) -> dict[str, Any]:
    """Solve chunk ``chunk`` (1-based) of ``chunks`` of every deletion the interaction sets
    need, and write its growth table."""
    from geneint.data.metabolism import read_metabolism_model

    if not 1 <= chunk <= chunks:
        raise ValueError(f"chunk must be in 1..{chunks}, got {chunk}")
    started = time.perf_counter()
    model = read_metabolism_model(model_dir)
    fitness = DeletionFitness(model)
    frame = read_interactions(interactions)
    sets = frame[["gene_a", "gene_b", "gene_c"]].itertuples(index=False, name=None)
    needed = required_gene_sets(sets, model_genes=fitness.genes)
    mine = plan_chunks(needed, chunks)[chunk - 1]
    table = growth_table(fitness, mine)
    write_growth_table(table, out)
    stats = {"deletion_sets": len(needed), "this_chunk": len(mine), **fitness.stats(),
             "seconds": round(time.perf_counter() - started, 2)}
    log.info("chunk %d/%d: %d of %d deletion sets in %.1f s; %s", chunk, chunks, len(mine),
             len(needed), stats["seconds"], fitness.stats())
    return stats


def fba_predictions(data, fitness, model_genes: Collection[str] | None = None) -> pd.DataFrame:
    """``predictions.parquet`` rows (every role of a split fold) with ``tau_pred`` = the FBA
    score. ``data`` is a :class:`~geneint.train.sets.SplitSets`; nothing is fitted, so train
    and validation sets are scored like the test sets."""
    ids = {role: data.sets[role].set_id.numpy() for role in PREDICTION_ROLES}
    used = np.unique(np.concatenate(list(ids.values())))  # sets outside the fold: not solved
    scores = np.full(len(data.frame), np.nan)
    scores[used] = interaction_scores(data.frame.iloc[used], fitness, model_genes)["tau"]
    frames = [predictions_frame(data.frame, data.sets[role], role, scores[ids[role]])
              for role in PREDICTION_ROLES]
    return pd.concat(frames, ignore_index=True)


def predict_fba(inputs: TrainingInputs, growth: list[PathLike]) -> dict[str, Any]:
    """``predictions.parquet`` and ``train_summary.json`` of FBA for one split fold."""
    started = time.perf_counter()
    out_dir = Path(inputs.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fitness = read_growth_tables(growth)
    # The tables hold every in-model subset the sets need, so the genes of their keys are the
    # model's genes among the sets; any other gene has fitness 1.
    model_genes = {g for key in fitness for g in key}
    data = load_split_sets(inputs.interactions, inputs.genes, inputs.split, inputs.fold,
                           shuffle_labels=inputs.shuffle_labels, seed=inputs.seed)
    predictions = fba_predictions(data, fitness, model_genes)
    write_predictions(predictions, out_dir / "predictions.parquet")
    in_model = data.frame[["gene_a", "gene_b", "gene_c"]].isin(model_genes)
    nonzero = predictions.groupby("role")["tau_pred"].apply(lambda s: int((s != 0).sum()))
    summary = {
        "model": "fba", "seed": inputs.seed, "fold": inputs.fold,
        "deletion_sets": len(fitness), "model_genes_in_sets": len(model_genes),
        "sets_with_a_model_gene": int(in_model.any(axis=1).sum()),
        "sets_all_in_model": int((in_model.sum(axis=1) == data.frame["arity"]).sum()),
        "nonzero_predictions": {str(k): int(v) for k, v in nonzero.items()},
        "sets": {r: len(s.tau) for r, s in data.sets.items()},
        "seconds": round(time.perf_counter() - started, 2)}
    write_text_atomic(out_dir / "train_summary.json",
                      json.dumps(summary, indent=2, default=str) + "\n")
    log.info("fba: %d of %d sets have a gene in the model; non-zero τ̂ per role %s",
             summary["sets_with_a_model_gene"], len(data.frame),
             summary["nonzero_predictions"])
    return summary

