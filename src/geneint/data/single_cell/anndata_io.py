"""Perturb-seq AnnData files: the published layouts in, the canonical ``cells.h5ad`` out.

A raw file is checked before anything is computed from it, and a problem is reported as an
:class:`~geneint.data.files.InputFormatError` naming the file and what is missing: the
intervention column of ``.obs`` (with the columns that are there), the control label, the gene
names of ``.var``, the expression values.

The canonical file every later stage reads: dense float32 ``X`` (cells × genes), ``.var_names``
the gene symbols, ``.obs["intervention"]`` each cell's knocked-down gene, ``non-targeting`` for
controls or ``excluded`` for a perturbation outside the gene set, and ``.uns["geneint"]`` with
how it was made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, atomic_output

log = logging.getLogger(__name__)

CONTROL = "non-targeting"
EXCLUDED = "excluded"
INTERVENTION = "intervention"


def anndata_module():
    """The ``anndata`` package, imported on first use (the yeast study never needs it)."""
    import anndata

    # pandas 3 keeps text in string arrays, which anndata writes only when asked to.
    anndata.settings.allow_write_nullable_strings = True
    return anndata


@dataclass(frozen=True)
class Columns:
    """Where a raw file keeps each cell's perturbation and each gene's symbol."""

    intervention: str = "gene"
    control: str = CONTROL
    gene_name: str = "gene_name"


def read_h5ad(path: PathLike):
    try:
        return anndata_module().read_h5ad(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # h5py/anndata raise many types for a file that is not h5ad
        raise InputFormatError(path, 0, f"not a readable .h5ad file ({exc})") from exc


def gene_names_of(adata, column: str, path: PathLike) -> pd.Index:
    if column == "index":
        names = pd.Index(adata.var_names.astype(str))
    elif column in adata.var.columns:
        names = pd.Index(adata.var[column].astype(str))
    else:
        raise InputFormatError(path, 0, f".var has no gene-name column {column!r}; its columns"
                                        f" are {list(adata.var.columns)} (or use 'index')")
    empty = names[(names == "") | (names == "nan")]
    if len(empty):
        raise InputFormatError(path, 0, f".var[{column!r}] has {len(empty)} empty gene names")
    duplicated = names[names.duplicated()].unique()
    if len(duplicated):
        raise InputFormatError(path, 0, f".var[{column!r}] names {len(duplicated)} genes more"
                                        f" than once, e.g. {list(duplicated[:3])}")
    return names


def check_expression(adata, path: PathLike, counts: bool) -> None:
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise InputFormatError(path, 0, f"no expression: {adata.n_obs} cells × {adata.n_vars}"
                                        " genes")
    values = adata.X.data if hasattr(adata.X, "tocsr") else np.asarray(adata.X)
    if not np.issubdtype(values.dtype, np.number):
        raise InputFormatError(path, 0, f"X holds {values.dtype}, not numbers")
    if not np.isfinite(values).all():
        raise InputFormatError(path, 0, "X holds NaN or infinite values")
    if counts and (values < 0).any():
        raise InputFormatError(path, 0, "X holds negative values; raw counts expected")


def read_perturbseq(path: PathLike, columns: Columns = Columns(), counts: bool = True):
    """A raw Perturb-seq file (Replogle 2022 layout; the synthetic data uses it too), with
    ``.obs["intervention"]`` from ``columns.intervention`` and genes named by symbol."""
    adata = read_h5ad(path)
    if columns.intervention not in adata.obs.columns:
        raise InputFormatError(path, 0, f".obs has no intervention column"
                                        f" {columns.intervention!r}; its columns are"
                                        f" {list(adata.obs.columns)}")
    labels = adata.obs[columns.intervention].astype(str)
    if not (labels == columns.control).any():
        examples = list(pd.unique(labels)[:5])
        raise InputFormatError(path, 0, f"no control cells: no .obs[{columns.intervention!r}]"
                                        f" equals {columns.control!r} (labels like {examples})")
    adata.var_names = gene_names_of(adata, columns.gene_name, path)
    check_expression(adata, path, counts)
    adata.obs[INTERVENTION] = pd.Categorical(labels.where(labels != columns.control, CONTROL))
    return adata


#: Data sets whose ``X`` is already log-normalised: never normalised twice.
LOG_NORMALISED = frozenset({"norman", "adamson", "krumsiek11"})


def krumsiek11():
    """scanpy's bundled krumsiek11 (no knock-downs: every cell a control)."""
    import scanpy as sc

    anndata_module()
    adata = sc.datasets.krumsiek11()
    adata.obs[INTERVENTION] = pd.Categorical([CONTROL] * adata.n_obs)
    return adata


def read_dataset(dataset: str, raw: PathLike | None, columns: Columns = Columns()):
    """A data set's raw cells with ``.obs["intervention"]``, by its layout."""
    if dataset == "krumsiek11":
        return krumsiek11()
    if raw is None:
        raise ValueError(f"data set {dataset} needs its raw .h5ad")
    if dataset in ("norman", "adamson"):
        from geneint.data.single_cell.gears_format import read_gears  # it builds on this module

        return read_gears(raw)
    return read_perturbseq(raw, columns, counts=dataset not in LOG_NORMALISED)


def read_cells(path: PathLike):
    """The canonical ``cells.h5ad`` written by :func:`write_cells`."""
    adata = read_h5ad(path)
    if INTERVENTION not in adata.obs.columns or "geneint" not in adata.uns:
        raise InputFormatError(path, 0, "not a geneint cells.h5ad (needs .obs['intervention']"
                                        " and .uns['geneint']); make it with `geneint"
                                        " perturbation prepare`")
    return adata


def write_cells(adata, path: PathLike, provenance: dict) -> None:
    """Write the canonical file atomically, dense float32, with its provenance in ``.uns``."""
    out = anndata_module().AnnData(
        X=np.asarray(adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X,
                     dtype=np.float32),
        obs=pd.DataFrame({INTERVENTION: pd.Categorical(adata.obs[INTERVENTION].astype(str))},
                         index=pd.Index(np.arange(adata.n_obs).astype(str), name="cell")),
        var=pd.DataFrame(index=pd.Index(adata.var_names.astype(str), name="gene")),
        uns={"geneint": provenance},
    )
    with atomic_output(path) as tmp:
        out.write_h5ad(tmp)
