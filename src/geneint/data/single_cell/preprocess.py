"""CausalBench's preprocessing, its stratified train/test split and its training regimes.

Preprocessing (Chevalley et al. 2022, ``causalscbench.data_access.utils.preprocessing``):
optionally keep the strong perturbations and the cells that show the knock-down; scale each cell
to the median total count and take log1p; keep the genes that are both measured and knocked down
in more than ``min_cells`` cells, labelling the other perturbations' cells ``excluded``.

Split: 80/20 of the cells, stratified by intervention (scikit-learn's ``train_test_split`` with
the seed as ``random_state``: CausalBench's split at seed 0). Regimes, applied to the training
cells: observational (controls only), partial<f> (controls + every cell of a seeded random
fraction f of the knocked-down genes) and interventional (all training cells).
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    qc_path_for,
    require_columns,
    write_text_atomic,
)
from geneint.data.single_cell.anndata_io import (
    CONTROL,
    EXCLUDED,
    INTERVENTION,
    LOG_NORMALISED,
    Columns,
    read_dataset,
    write_cells,
)

log = logging.getLogger(__name__)

REGIME_PATTERN = re.compile(r"^(observational|interventional|partial(0\.[0-9]*[1-9]))$")


@dataclass(frozen=True)
class PreprocessSettings:
    normalize: bool = True
    min_cells: int = 100
    strong_perturbations: bool = False


def strong_perturbations(summary: pd.DataFrame) -> set[str]:
    """Replogle 2022's summary table (Cell mmc2) → the genes of strong perturbations: more
    than 50 Anderson-Darling DEGs, knock-down of 30% or more, more than 25 cells."""
    strong = summary[(summary["Number of DEGs (anderson-darling)"] > 50)
                     & (summary["percent knockdown"] <= -0.3)
                     & (summary["number of cells (filtered)"] > 25)]
    # "genetic perturbation" reads <id>_<gene>_...: the gene is the second field.
    return {label.split("_")[1] for label in strong["genetic perturbation"].astype(str)}


def knockdown_cells(adata, percentile: float = 10.0) -> np.ndarray:
    """Cells to keep after the strong filter: controls, and perturbed cells whose target is at
    or below the ``percentile`` of its expression in the controls (unmeasured targets: all)."""
    labels = adata.obs[INTERVENTION].astype(str).to_numpy()
    keep = labels == CONTROL
    controls = np.asarray(adata.X[keep])
    position = {g: i for i, g in enumerate(adata.var_names)}
    for gene in np.unique(labels[~keep]):
        cells = labels == gene
        if gene not in position:
            keep |= cells
            continue
        column = position[gene]
        threshold = np.percentile(controls[:, column], percentile)
        keep |= cells & (np.asarray(adata.X[:, column]).ravel() <= threshold)
    return keep


def preprocess(adata, settings: PreprocessSettings, qc: QCReport,
               summary: pd.DataFrame | None = None):
    """The raw AnnData (``.obs["intervention"]``) → the canonical cells × genes AnnData."""
    import scanpy as sc

    qc.count("cells_raw", adata.n_obs)
    qc.count("genes_raw", adata.n_vars)
    if settings.strong_perturbations:
        if summary is None:
            raise ValueError("preprocess.strong_perturbations needs Replogle's summary table"
                             " (download replogle_summary)")
        strong = strong_perturbations(summary) | {CONTROL}
        labels = adata.obs[INTERVENTION].astype(str)
        weak = ~labels.isin(strong).to_numpy()
        qc.count("cells_dropped_weak_perturbation", int(weak.sum()))
        adata = adata[~weak].copy()
        shown = knockdown_cells(adata)
        qc.count("cells_dropped_no_knockdown", int((~shown).sum()))
        adata = adata[shown].copy()
    if settings.normalize:
        sc.pp.normalize_total(adata)
        sc.pp.log1p(adata)

    labels = adata.obs[INTERVENTION].astype(str)
    perturbed = labels[~labels.isin([CONTROL, EXCLUDED])]
    if perturbed.empty:
        # Observational data (e.g. krumsiek11): no gene can be filtered on its knock-down.
        qc.info["observational_only"] = True
        qc.count("genes_kept", adata.n_vars)
        qc.count("cells_kept", adata.n_obs)
        return adata
    cells_per_gene = perturbed.value_counts()
    measured = set(adata.var_names)
    kept = [g for g in adata.var_names if cells_per_gene.get(g, 0) > settings.min_cells]
    if not kept:
        raise ValueError(f"no gene is both measured and knocked down in more than"
                         f" {settings.min_cells} cells (preprocess.min_cells); the most cells"
                         f" of one knock-down: {int(cells_per_gene.max())}")
    for gene, n in cells_per_gene.items():
        if gene not in measured:
            qc.count("perturbations_excluded_not_measured", example=f"{gene} ({n} cells)")
        elif n <= settings.min_cells:
            qc.count("perturbations_excluded_few_cells", example=f"{gene} ({n} cells)")
    qc.count("genes_dropped_not_knocked_down", adata.n_vars - len(kept))
    keep = set(kept) | {CONTROL}
    relabelled = labels.where(labels.isin(keep), EXCLUDED)
    qc.count("cells_excluded", int((relabelled == EXCLUDED).sum()))
    adata = adata[:, kept].copy()
    adata.obs[INTERVENTION] = pd.Categorical(relabelled.to_numpy())
    qc.count("genes_kept", len(kept))
    qc.count("cells_kept", adata.n_obs)
    return adata


def stratified_split(interventions: pd.Series | np.ndarray, test_fraction: float = 0.2,
                     seed: int = 0) -> np.ndarray:
    """``"train"``/``"test"`` per cell, stratified by intervention."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(interventions).astype(str)
    names, counts = np.unique(labels, return_counts=True)
    if (counts < 2).any():
        raise ValueError(f"a stratified split needs 2 or more cells per intervention;"
                         f" {list(names[counts < 2][:5])} have one")
    _, test = train_test_split(np.arange(len(labels)), test_size=test_fraction,
                               random_state=seed, stratify=labels)
    roles = np.full(len(labels), "train", dtype=object)
    roles[test] = "test"
    return roles


def parse_regime(regime: str) -> tuple[str, float]:
    """``observational`` → (observational, 0), ``partial0.25`` → (partial, 0.25),
    ``interventional`` → (interventional, 1)."""
    match = REGIME_PATTERN.match(regime)
    if match is None:
        raise ValueError(f"unknown training regime {regime!r}: observational, interventional"
                         " or partial<fraction> (e.g. partial0.5)")
    if match.group(2):
        return "partial", float(match.group(2))
    return regime, 1.0 if regime == "interventional" else 0.0


def regime_cells(interventions: pd.Series | np.ndarray, regime: str, seed: int) -> np.ndarray:
    """Which training cells a regime keeps (boolean mask).

    partial<f> keeps int(f · n) of the n knocked-down genes, drawn as CausalBench draws them
    (``random.sample`` seeded with ``seed`` over the genes in order of first appearance), but
    from the genes alone: CausalBench's list also holds the control and ``excluded`` labels.
    ``excluded`` cells enter the interventional regime only, as in CausalBench.
    """
    labels = np.asarray(interventions).astype(str)
    kind, fraction = parse_regime(regime)
    if kind == "interventional":
        return np.ones(len(labels), dtype=bool)
    keep = {CONTROL}
    if kind == "partial":
        genes = [g for g in dict.fromkeys(labels) if g not in (CONTROL, EXCLUDED)]
        keep |= set(random.Random(seed).sample(genes, int(fraction * len(genes))))
    return np.isin(labels, sorted(keep))


def write_split(interventions: pd.Series | np.ndarray, roles: np.ndarray, path: PathLike
                ) -> None:
    """The split as a table: cell (row of ``cells.h5ad``), intervention, role."""
    frame = pd.DataFrame({"cell": np.arange(len(roles)),
                          "intervention": np.asarray(interventions).astype(str), "role": roles})
    write_text_atomic(path, frame.to_csv(sep="\t", index=False))


def read_split(path: PathLike, n_cells: int) -> np.ndarray:
    """Roles per cell from :func:`write_split`'s table, checked against the cells file."""
    frame = pd.read_csv(path, sep="\t")
    require_columns(frame, ["cell", "intervention", "role"], path)
    if len(frame) != n_cells or not (frame["cell"].to_numpy() == np.arange(n_cells)).all():
        raise InputFormatError(path, 0, f"the split lists {len(frame)} cells, not the"
                                        f" {n_cells} cells of the cells file in order")
    bad = sorted(set(frame["role"]) - {"train", "test"})
    if bad:
        raise InputFormatError(path, 0, f"unknown roles {bad}; expected train or test")
    return frame["role"].to_numpy()


def prepare(dataset: str, raw: PathLike | None, settings: PreprocessSettings, columns: Columns,
            test_fraction: float, seed: int, out: PathLike, split_out: PathLike,
            summary_table: PathLike | None = None) -> QCReport:
    """A raw data set → the canonical ``cells.h5ad``, ``split.tsv`` and the QC report beside
    the cells."""
    if dataset in LOG_NORMALISED and settings.normalize:
        log.info("%s is already log-normalised: not normalised again", dataset)
        settings = replace(settings, normalize=False)
    qc = QCReport([str(p) for p in (raw, summary_table) if p] or [dataset])
    summary = pd.read_excel(summary_table) if summary_table else None
    cells = preprocess(read_dataset(dataset, raw, columns), settings, qc, summary)
    roles = stratified_split(cells.obs[INTERVENTION], test_fraction, seed)
    qc.count("cells_train", int((roles == "train").sum()))
    qc.count("cells_test", int((roles == "test").sum()))
    write_cells(cells, out, {"dataset": dataset, "normalized": settings.normalize,
                             "min_cells": settings.min_cells})
    write_split(cells.obs[INTERVENTION], roles, split_out)
    qc.log_summary()
    qc.write(qc_path_for(out))
    return qc
