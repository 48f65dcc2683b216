"""Reader for TFLink's yeast TF → target table → the directed network ``tflink``.

``TFLink_Saccharomyces_cerevisiae_interactions_All_simpleFormat_v1.0.tsv``
(https://cdn.netbiol.org/tflink/download_files/TFLink_Saccharomyces_cerevisiae_interactions_All_simpleFormat_v1.0.tsv;
"All" = small- and large-scale evidence; ``_SS_`` and ``_LS_`` files hold each part): UTF-8,
tab-separated, one header line of 15 columns (:data:`TFLINK_COLUMNS`)::

    UniprotID.TF  UniprotID.Target  NCBI.GeneID.TF  NCBI.GeneID.Target  Name.TF  Name.Target
    Detection.method  PubmedID  Organism  Source.database  Small-scale.evidence
    TF.TFLink.ortho  TF.nonTFLink.ortho  Target.TFLink.ortho  Target.nonTFLink.ortho

One row per TF–target pair; multiple values inside a field are ``;``-separated (detection
methods, PubMed ids, source databases such as ``YEASTRACT;GTRD``), ``Small-scale.evidence`` is
``Yes``/``No``, ``Organism`` is ``Saccharomyces cerevisiae``, ``-`` marks an empty field.

Genes are taken from ``Name.TF`` / ``Name.Target`` (as TorchCell does): names that are ORFs map
to themselves, standard names (``GCN4``) to systematic names through ``SGD_features.tab``; names
that map to nothing are counted (QC ``rows_unmapped_name``). The edges are directed
TF → target (``gene_a`` = TF), weight 1.0.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, QCReport, iter_lines
from geneint.data.networks import tf_target_edges

log = logging.getLogger(__name__)

TFLINK_URL = ("https://cdn.netbiol.org/tflink/download_files/"
              "TFLink_Saccharomyces_cerevisiae_interactions_All_simpleFormat_v1.0.tsv")
TFLINK_COLUMNS = [
    "UniprotID.TF", "UniprotID.Target", "NCBI.GeneID.TF", "NCBI.GeneID.Target", "Name.TF",
    "Name.Target", "Detection.method", "PubmedID", "Organism", "Source.database",
    "Small-scale.evidence", "TF.TFLink.ortho", "TF.nonTFLink.ortho", "Target.TFLink.ortho",
    "Target.nonTFLink.ortho",
]
TFLINK_ORGANISM = "Saccharomyces cerevisiae"
NETWORK = "tflink"
_TF, _TARGET, _ORGANISM, _SMALL = (TFLINK_COLUMNS.index(c) for c in (
    "Name.TF", "Name.Target", "Organism", "Small-scale.evidence"))


def read_tflink(path: PathLike, genes: Collection[str] | None,
                sgd_names: Mapping[str, str] | None,
                qc: QCReport | None = None) -> pd.DataFrame:
    """Read a TFLink ``simpleFormat`` table into the canonical network ``tflink``.

    Args:
        path: The ``.tsv`` file (plain or gzip).
        genes: Gene universe; edges naming another gene are dropped (QC
            ``genes_outside_universe``). ``None`` keeps every gene.
        sgd_names: Standard name → systematic name (any case), e.g.
            :func:`~geneint.data.networks.standard_name_map`; ``None``: only ORF names map.
        qc: Report to count into: ``rows_read``, ``rows_other_organism``,
            ``rows_unmapped_name`` (+ ``info["unmapped_names_distinct"]``),
            ``genes_outside_universe``, ``self_loops``, ``duplicate_edges_merged``,
            ``edges_tflink``; ``info["small_scale_rows"]``, ``info["transcription_factors"]``.

    Raises:
        InputFormatError: wrong header, wrong field count, an empty name or a
            ``Small-scale.evidence`` other than Yes/No (file and 1-based line).
    """
    qc = qc if qc is not None else QCReport(path)
    lines = iter_lines(path)
    first = next(lines, None)
    header = first[1].split("\t") if first is not None else []
    if header != TFLINK_COLUMNS:
        missing = [c for c in TFLINK_COLUMNS if c not in header]
        raise InputFormatError(path, 1, f"not a TFLink simpleFormat header: expected the "
                                        f"{len(TFLINK_COLUMNS)} tab-separated columns "
                                        f"{TFLINK_COLUMNS}; missing {missing}")
    tfs: list[str] = []
    targets: list[str] = []
    organisms: list[str] = []
    small = 0
    n_fields = len(TFLINK_COLUMNS)
    for lineno, line in lines:
        fields = line.split("\t")
        if len(fields) != n_fields:
            raise InputFormatError(path, lineno, f"expected {n_fields} tab-separated fields "
                                                 f"(TFLink simpleFormat), found {len(fields)}")
        if fields[_TF] in ("", "-") or fields[_TARGET] in ("", "-"):
            raise InputFormatError(path, lineno, "empty Name.TF or Name.Target")
        if fields[_SMALL] not in ("Yes", "No"):
            raise InputFormatError(path, lineno, f"Small-scale.evidence {fields[_SMALL]!r} is "
                                                 "not Yes or No")
        small += fields[_SMALL] == "Yes"
        tfs.append(fields[_TF])
        targets.append(fields[_TARGET])
        organisms.append(fields[_ORGANISM])
    tf_names = np.array(tfs, dtype=object)
    target_names = np.array(targets, dtype=object)
    qc.count("rows_read", len(tf_names))
    qc.info["small_scale_rows"] = small

    yeast = np.array(organisms, dtype=object) == TFLINK_ORGANISM
    if (~yeast).any():
        qc.count("rows_other_organism", int((~yeast).sum()),
                 example=str(np.array(organisms, dtype=object)[~yeast][0]))
        tf_names, target_names = tf_names[yeast], target_names[yeast]
    edges = tf_target_edges(tf_names, target_names, sgd_names, genes, NETWORK, qc)
    log.info("%s: %s rows → %s TFLink edges", path, f"{len(tfs):,}", f"{len(edges):,}")
    return edges
