"""GEARS' processed Perturb-seq layout (``perturb_processed.h5ad``), the input of the
perturbation-response task.

- ``X``: log-normalised expression, cells × genes;
- ``.obs['condition']``: ``ctrl``, ``A+ctrl`` (a single knock-down of A) or ``A+B`` (a double);
  ``.obs['cell_type']``; ``.obs['condition_name']`` = ``<cell_type>_<condition>_<dose>``;
- ``.var['gene_name']``: the gene symbols (``.var`` is indexed by gene id);
- ``.uns['rank_genes_groups_cov_all']``: per condition name, every gene id ranked by scanpy's
  t-test against the cell type's controls by absolute score; ``top_non_dropout_de_20`` and
  ``top_non_zero_de_20``, the top 20 after removing dropouts; ``non_zeros_gene_idx`` and
  ``non_dropout_gene_idx``.

:func:`prepare_response_data` checks a file, computes the ``.uns`` rankings the way GEARS'
``get_DE_genes`` / ``get_dropout_non_zero_genes`` do when they are absent, drops the
conditions whose genes are not measured (a graph model needs them as nodes; counted in the QC
report) and writes the canonical copy every later stage reads.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, QCReport, atomic_output, qc_path_for
from geneint.data.single_cell.anndata_io import (
    CONTROL,
    EXCLUDED,
    INTERVENTION,
    check_expression,
    gene_names_of,
    read_h5ad,
)

log = logging.getLogger(__name__)

CONDITION = "condition"
CELL_TYPE = "cell_type"
CONDITION_NAME = "condition_name"
CTRL = "ctrl"
RANKING = "rank_genes_groups_cov_all"
DE_KEYS = (RANKING, "top_non_dropout_de_20", "top_non_zero_de_20", "non_zeros_gene_idx",
           "non_dropout_gene_idx")


def condition_label(genes: list[str]) -> str:
    """GEARS' condition for the knocked-down genes: ``ctrl``, ``A+ctrl`` or ``A+B``."""
    if not genes:
        return CTRL
    return f"{genes[0]}+ctrl" if len(genes) == 1 else "+".join(genes)


def condition_genes(condition: str) -> tuple[str, ...]:
    """The knocked-down genes of a condition (none for ``ctrl``)."""
    return tuple(g for g in condition.split("+") if g != CTRL)


def valid_condition(condition: str) -> bool:
    if condition == CTRL:
        return True
    parts = condition.split("+")
    return len(parts) == 2 and all(parts) and parts != [CTRL, CTRL]


def is_double(condition: str) -> bool:
    return len(condition_genes(condition)) == 2


def condition_name(cell_type: str, condition: str) -> str:
    # GEARS' dose: '1+1' for a condition with a '+', '1' for 'ctrl'.
    return f"{cell_type}_{condition}_{'1+1' if '+' in condition else '1'}"


def read_perturb_processed(path: PathLike):
    """A GEARS-layout file, checked: the condition labels, the control cells, the gene names
    and the values."""
    adata = read_h5ad(path)
    if CONDITION not in adata.obs.columns:
        raise InputFormatError(path, 0, f".obs has no {CONDITION!r} column (GEARS layout: ctrl,"
                               f" A+ctrl, A+B); its columns are {list(adata.obs.columns)}")
    conditions = adata.obs[CONDITION].astype(str)
    bad = [c for c in pd.unique(conditions) if not valid_condition(c)]
    if bad:
        raise InputFormatError(path, 0, f".obs[{CONDITION!r}] has {len(bad)} labels that are"
                               f" not ctrl, A+ctrl or A+B, e.g. {bad[:3]}")
    if not (conditions == CTRL).any():
        raise InputFormatError(path, 0, f"no control cells: no .obs[{CONDITION!r}] equals"
                               f" {CTRL!r}")
    gene_names = gene_names_of(adata, "gene_name", path)
    check_expression(adata, path, counts=False)
    if CELL_TYPE not in adata.obs.columns:
        log.info("%s: no .obs[%r]; every cell gets one cell type", path, CELL_TYPE)
        adata.obs[CELL_TYPE] = "cells"
    adata.obs[CONDITION] = conditions.to_numpy()
    adata.var["gene_name"] = gene_names.to_numpy()
    return adata


def gears_intervention(condition: str) -> str | None:
    """GEARS' condition (``ctrl``, ``A+ctrl``, ``ctrl+A``, ``A+B``) as a single knock-down:
    the gene, the control label, or None for a double perturbation."""
    genes = condition_genes(condition)
    if not genes:
        return CONTROL
    return genes[0] if len(genes) == 1 else None


def read_gears(path: PathLike):
    """GEARS' file for the network task: checked by :func:`read_perturb_processed`, genes named
    by symbol, ``.obs["intervention"]`` the single knock-down. Double perturbations are labelled
    ``excluded``: the network evaluation knocks down one gene at a time."""
    adata = read_perturb_processed(path)
    adata.var_names = adata.var["gene_name"].to_numpy()
    single = adata.obs[CONDITION].map(gears_intervention)
    adata.obs[INTERVENTION] = pd.Categorical(single.fillna(EXCLUDED))
    return adata


def rank_de_genes(adata) -> dict[str, np.ndarray]:
    """GEARS' ``rank_genes_groups_cov_all``: per condition name, all gene ids ranked by
    scanpy's t-test against the same cell type's controls, by absolute score."""
    import scanpy as sc

    ranking: dict[str, np.ndarray] = {}
    for cell_type in pd.unique(adata.obs[CELL_TYPE].astype(str)):
        subset = adata[adata.obs[CELL_TYPE].astype(str) == cell_type].copy()
        subset.obs[CONDITION_NAME] = subset.obs[CONDITION_NAME].astype("category")
        sc.tl.rank_genes_groups(subset, groupby=CONDITION_NAME,
                                reference=condition_name(cell_type, CTRL), rankby_abs=True,
                                n_genes=subset.n_vars, use_raw=False)
        names = pd.DataFrame(subset.uns["rank_genes_groups"]["names"])
        ranking.update({group: names[group].to_numpy(dtype=str) for group in names.columns})
    return ranking


def dropout_lists(adata, ranking: dict[str, np.ndarray]) -> dict[str, dict]:
    """GEARS' non-dropout and non-zero gene lists: a gene is a dropout of a perturbation when
    its mean is zero there but not in the controls."""
    X = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    conditions = adata.obs[CONDITION].astype(str).to_numpy()
    control_mean = X[conditions == CTRL].mean(0)
    position = {gene_id: i for i, gene_id in enumerate(adata.var_names.astype(str))}
    condition_of = dict(zip(adata.obs[CONDITION_NAME].astype(str), conditions))
    ids = adata.var_names.astype(str).to_numpy()
    lists: dict[str, dict] = {key: {} for key in DE_KEYS[1:]}
    for name, ranked in ranking.items():
        mean = X[conditions == condition_of[name]].mean(0)
        non_zero = np.flatnonzero(mean != 0)
        non_dropout = np.sort(np.concatenate([non_zero,
                                              np.flatnonzero((mean == 0) & (control_mean == 0))]))
        ranked_idx = np.array([position[g] for g in ranked])
        lists["top_non_dropout_de_20"][name] = ids[ranked_idx[np.isin(ranked_idx,
                                                                       non_dropout)][:20]]
        lists["top_non_zero_de_20"][name] = ids[ranked_idx[np.isin(ranked_idx, non_zero)][:20]]
        lists["non_zeros_gene_idx"][name] = non_zero
        lists["non_dropout_gene_idx"][name] = non_dropout
    return lists


def add_de_genes(adata) -> bool:
    """Fill the ``.uns`` DE rankings when the file lacks them; True when they were computed."""
    adata.obs[CONDITION_NAME] = [condition_name(t, c) for t, c in
                                 zip(adata.obs[CELL_TYPE].astype(str),
                                     adata.obs[CONDITION].astype(str))]
    names = set(adata.obs[CONDITION_NAME]) - {condition_name(t, CTRL) for t in
                                               adata.obs[CELL_TYPE].astype(str)}
    present = adata.uns.get(RANKING, {})
    if names <= set(present) and all(key in adata.uns for key in DE_KEYS):
        return False
    ranking = rank_de_genes(adata)
    adata.uns[RANKING] = ranking
    adata.uns.update(dropout_lists(adata, ranking))
    return True


def prepare_response_data(raw: PathLike, out: PathLike, min_cells: int = 2):
    """Raw GEARS-layout file → the canonical ``perturb_processed.h5ad`` + its QC report;
    returns (the prepared AnnData, the QC report)."""
    adata = read_perturb_processed(raw)
    qc = QCReport(raw)
    conditions = adata.obs[CONDITION]
    measured = set(adata.var["gene_name"])
    keep = np.ones(adata.n_obs, dtype=bool)
    for condition, cells in conditions.value_counts().items():
        rows = (conditions == condition).to_numpy()
        missing = [g for g in condition_genes(condition) if g not in measured]
        if missing:
            qc.count("cells_of_unmeasured_perturbed_genes", int(cells), example=condition)
            keep &= ~rows
        elif condition != CTRL and cells < min_cells:
            qc.count("cells_of_conditions_below_min_cells", int(cells), example=condition)
            keep &= ~rows
    adata = adata[keep].copy()
    # Var is indexed by gene id in GEARS' files; symbols name genes everywhere downstream.
    kept = adata.obs[CONDITION]
    qc.count("cells", adata.n_obs)
    qc.count("control_cells", int((kept == CTRL).sum()))
    qc.count("single_perturbations", sum(len(condition_genes(c)) == 1 for c in set(kept)))
    qc.count("double_perturbations", sum(is_double(c) for c in set(kept)))
    qc.count("genes", adata.n_vars)
    qc.info["de_genes_computed"] = add_de_genes(adata)
    adata.X = np.asarray(adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X,
                         dtype=np.float32)
    adata.obs = adata.obs[[CONDITION, CELL_TYPE, CONDITION_NAME]].astype("category")
    with atomic_output(out) as tmp:
        adata.write_h5ad(tmp)
    qc.write(qc_path_for(out))
    qc.log_summary()
    return adata, qc


def read_response_data(path: PathLike):
    """The canonical file written by :func:`prepare_response_data`."""
    adata = read_h5ad(path)
    missing = [key for key in DE_KEYS if key not in adata.uns]
    if CONDITION not in adata.obs.columns or missing:
        raise InputFormatError(path, 0, f"not a prepared perturb_processed.h5ad (missing"
                               f" {missing or [CONDITION]}); make it with `geneint"
                               " perturbation prepare-response`")
    adata.obs[CONDITION] = adata.obs[CONDITION].astype(str)
    return adata


def mean_profiles(adata, conditions=None) -> pd.DataFrame:
    """Mean expression per condition (rows) over its cells; genes as columns (gene ids)."""
    X = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    labels = adata.obs[CONDITION].astype(str).to_numpy()
    wanted = pd.unique(labels) if conditions is None else conditions
    return pd.DataFrame(np.stack([X[labels == c].mean(0, dtype=np.float64) for c in wanted]),
                        index=pd.Index(wanted, name=CONDITION), columns=adata.var_names)


def write_predictions(profiles: pd.DataFrame, split: pd.DataFrame, var: pd.DataFrame,
                      path: PathLike, info: dict) -> None:
    """Predicted mean profiles, one row per condition, as ``predictions.h5ad`` (``.obs``: the
    condition's split and subgroup; ``.var``: the data's genes; ``.uns['geneint']``)."""
    from geneint.data.single_cell.anndata_io import anndata_module

    roles = split.set_index("condition").reindex(profiles.index)
    obs = pd.DataFrame({"split": roles["split"].fillna("extra").to_numpy(),
                        "subgroup": roles["subgroup"].fillna("extra").to_numpy()},
                       index=pd.Index(profiles.index.astype(str), name=CONDITION))
    # float64: a "no change" prediction must equal the control mean exactly, not to 1e-7.
    adata = anndata_module().AnnData(X=profiles.to_numpy(np.float64), obs=obs, var=var.copy(),
                                     uns={"geneint": info})
    with atomic_output(path) as tmp:
        adata.write_h5ad(tmp)


def read_predictions(path: PathLike, var_names) -> pd.DataFrame:
    adata = read_h5ad(path)
    if list(adata.var_names) != list(var_names):
        raise InputFormatError(path, 0, "its genes are not the data's (another data set?)")
    return pd.DataFrame(np.asarray(adata.X, dtype=np.float64), index=adata.obs_names.astype(str),
                        columns=adata.var_names)
