"""Per-gene inputs of the response models, each optional: precomputed feature vectors (gene
description through a language model, DNA sequence through a DNA model: whatever the user
has) and the biotype table.

Feature file: a TSV whose first column ``gene_name`` holds symbols and whose other columns are
numbers (one row per gene). Biotype table: a TSV with ``gene_name`` and ``biotype`` (Ensembl's
biotypes; ``protein_coding`` is coding, anything else non-coding). A gene a file does not list
gets the file's mean vector, or is taken as coding; both are counted and logged, never silent.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike

log = logging.getLogger(__name__)

CODING_BIOTYPE = "protein_coding"
VIEWS = ("description", "sequence")


def read_feature_table(path: PathLike, genes: list[str]) -> np.ndarray:
    """Genes × dimensions, in ``genes``' order."""
    table = pd.read_csv(path, sep="\t")
    if table.columns[0] != "gene_name" or table.shape[1] < 2:
        raise InputFormatError(path, 1, "a feature table starts with a gene_name column"
                               f" followed by numeric columns; its header is"
                               f" {list(table.columns[:4])}")
    values = table.iloc[:, 1:]
    numeric = values.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna().any(axis=1) | ~np.isfinite(numeric.fillna(0)).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFormatError(path, row + 2, f"gene {table.iloc[row, 0]!r} has a missing or"
                               " non-numeric value")
    duplicated = table["gene_name"][table["gene_name"].duplicated()]
    if len(duplicated):
        raise InputFormatError(path, int(duplicated.index[0]) + 2,
                               f"gene {duplicated.iloc[0]!r} is listed twice")
    frame = numeric.set_axis(table["gene_name"].astype(str))
    missing = [g for g in genes if g not in frame.index]
    if missing:
        log.warning("%s: %d of %d genes have no features (e.g. %s); they get the mean vector",
                    path, len(missing), len(genes), missing[:3])
    return frame.reindex(genes).fillna(frame.mean()).to_numpy(np.float32)


def read_biotypes(path: PathLike | None, genes: list[str]) -> np.ndarray:
    """A bool per gene: coding. Without a table every gene is coding (a homogeneous graph)."""
    if path is None:
        log.info("no biotype table: every gene is taken as coding (one relation type)")
        return np.ones(len(genes), dtype=bool)
    table = pd.read_csv(path, sep="\t", dtype=str)
    if not {"gene_name", "biotype"} <= set(table.columns):
        raise InputFormatError(path, 1, f"needs columns gene_name and biotype; found"
                               f" {list(table.columns)}")
    biotype = dict(zip(table["gene_name"], table["biotype"]))
    missing = [g for g in genes if g not in biotype]
    if missing:
        log.warning("%s: %d genes have no biotype (e.g. %s); taken as coding", path,
                    len(missing), missing[:3])
    return np.array([biotype.get(g, CODING_BIOTYPE) == CODING_BIOTYPE for g in genes])


def gene_views(paths: dict[str, PathLike | None], genes: list[str], fallback: str
               ) -> list[np.ndarray]:
    """The feature views the model encodes. A missing file falls back (logged): ``onehot``
    puts the identity in its place, ``learned`` drops the view — with no view left the model
    learns one embedding per gene."""
    views = []
    for view in VIEWS:
        path = paths.get(view)
        if path is not None and Path(path).exists():
            views.append(read_feature_table(path, genes))
            continue
        reason = "not given" if path is None else f"{path} does not exist"
        if path is not None:
            log.warning("%s features: %s", view, reason)
        if fallback == "onehot":
            log.info("%s features %s: one-hot gene identities instead", view, reason)
            views.append(np.eye(len(genes), dtype=np.float32))
        else:
            log.info("%s features %s: dropped; the model learns gene embeddings", view, reason)
    return views
