"""Reader for YEASTRACT's documented TF → target table → the directed network ``regulatory``.

Source: YEASTRACT (http://www.yeastract.com; today part of YEASTRACT+), flat file
``RegulationTwoColumnTable_Documented_2013927.tsv.gz`` —
``http://www.yeastract.com/download/RegulationTwoColumnTable_Documented_2013927.tsv.gz``
(one URL, the whole network; the same folder serves ``RegulationMatrix_Documented_2013927.csv.gz``,
the TF × gene 0/1 matrix of the same associations).

*Evidence subset: documented.* YEASTRACT's "documented" associations are those supported by
an experiment reported in the literature: direct evidence (ChIP, ChIP-chip/-seq, EMSA, mutation
of the binding site) or indirect evidence (expression change of the target when the TF is
deleted, mutated or over-expressed). The "potential" associations (a TF's consensus binding
site matches the promoter) are *not* in this file. SGD's per-gene ``regulation_details`` (what
TorchCell fetches gene by gene) are largely imported from YEASTRACT, so this file is their bulk
counterpart.

*Format.* gzip-compressed text, no header, one association per line, two fields separated by
a semicolon: ``<transcription factor>;<target gene>``, e.g. ``Abf1;YKL112w``. TFs are named by
YEASTRACT's protein-style standard name (``Abf1``; ``Abf1p`` in some releases), targets by
standard name or, when a gene has none, its ORF with a lower-case strand letter (``YKL112w``).
Names are matched case-insensitively: an ORF maps to itself, a standard name to its systematic
name through ``SGD_features.tab`` (:func:`~geneint.data.networks.standard_name_map`; aliases are
not used). A name that maps to nothing is counted (QC ``rows_unmapped_name``), never silently
dropped. A field wrapped in double quotes is unquoted.

The edges are directed TF → target (``gene_a`` = TF), weight 1.0.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, QCReport, iter_lines
from geneint.data.networks import tf_target_edges

log = logging.getLogger(__name__)

REGULATION_URL = ("http://www.yeastract.com/download/"
                  "RegulationTwoColumnTable_Documented_2013927.tsv.gz")
REGULATION_SEPARATOR = ";"
NETWORK = "regulatory"


def read_regulation(path: PathLike, genes: Collection[str] | None,
                    sgd_names: Mapping[str, str] | None,
                    qc: QCReport | None = None) -> pd.DataFrame:
    """Read a YEASTRACT ``RegulationTwoColumnTable`` into the canonical network ``regulatory``.

    Args:
        path: The table (gzip or plain text).
        genes: Gene universe; edges naming another gene are dropped (QC
            ``genes_outside_universe``). ``None`` keeps every gene.
        sgd_names: Standard name → systematic name (any case), e.g.
            :func:`~geneint.data.networks.standard_name_map` of ``SGD_features.tab``.
            ``None``: only names that are ORFs can be mapped.
        qc: Report to count into: ``rows_read``, ``rows_unmapped_name`` (with
            ``info["unmapped_names_distinct"]``), ``genes_outside_universe``, ``self_loops``
            (autoregulation), ``duplicate_edges_merged``, ``edges_regulatory``,
            ``info["transcription_factors"]``.

    Raises:
        InputFormatError: a line without exactly two ``;``-separated non-empty fields.
    """
    qc = qc if qc is not None else QCReport(path)
    tfs: list[str] = []
    targets: list[str] = []
    for lineno, line in iter_lines(path):
        fields = [_unquote(f) for f in line.split(REGULATION_SEPARATOR)]
        if len(fields) != 2 or not all(fields):
            raise InputFormatError(
                path, lineno, f"expected '<transcription factor>;<target gene>' (two "
                f"';'-separated names, no header), found {len(fields)} field(s): {line[:80]!r}")
        tfs.append(fields[0])
        targets.append(fields[1])
    tf_names = np.array(tfs, dtype=object)
    target_names = np.array(targets, dtype=object)
    qc.count("rows_read", len(tf_names))
    edges = tf_target_edges(tf_names, target_names, sgd_names, genes, NETWORK, qc,
                            protein_suffix=True)
    log.info("%s: %s rows → %s regulatory edges from %d TFs", path, f"{len(tf_names):,}",
             f"{len(edges):,}", qc.info["transcription_factors"])
    return edges


def _unquote(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].strip()
    return field
