"""Reader for BioGRID's S. cerevisiae S288C release file in TAB3 format → networks ``physical``
and ``genetic``.

``BIOGRID-ORGANISM-Saccharomyces_cerevisiae_S288c-<release>.tab3.txt`` (one member of
``https://downloads.thebiogrid.org/Download/BioGRID/Release-Archive/BIOGRID-<release>/BIOGRID-ORGANISM-<release>.tab3.zip``,
e.g. release 4.4.240): UTF-8 text, tab-separated, one header line of 37 columns
(:data:`TAB3_COLUMNS`, the first spelled ``#BioGRID Interaction ID``), ``-`` for an empty field.
One row per curated evidence: the same pair appears once per publication and experimental
system. The columns this reader uses:

* ``Systematic Name Interactor A/B`` — the ORF (``YLR106C``); ``-`` for features without one;
* ``Experimental System`` (``Affinity Capture-MS``, ``Two-hybrid``, ``Negative Genetic``,
  ``Synthetic Lethality``…) and ``Experimental System Type`` (``physical`` | ``genetic``);
* ``Organism ID Interactor A/B`` — NCBI taxon, 559292 for S288C (the organism file also lists
  yeast proteins' interactions with e.g. human proteins, 9606).

:func:`read_biogrid_tab3` returns the canonical network table (:mod:`geneint.data.networks`):
both networks undirected (bait/prey order is not a direction), weight 1.0, one row per pair.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection

import numpy as np
import pandas as pd

from geneint.data.files import InputFormatError, PathLike, QCReport, is_orf, iter_lines
from geneint.data.networks import concat_networks, finish_edges, keep_known_genes

log = logging.getLogger(__name__)

TAB3_COLUMNS = [
    "#BioGRID Interaction ID", "Entrez Gene Interactor A", "Entrez Gene Interactor B",
    "BioGRID ID Interactor A", "BioGRID ID Interactor B", "Systematic Name Interactor A",
    "Systematic Name Interactor B", "Official Symbol Interactor A",
    "Official Symbol Interactor B", "Synonyms Interactor A", "Synonyms Interactor B",
    "Experimental System", "Experimental System Type", "Author", "Publication Source",
    "Organism ID Interactor A", "Organism ID Interactor B", "Throughput", "Score",
    "Modification", "Qualifications", "Tags", "Source Database",
    "SWISS-PROT Accessions Interactor A", "TREMBL Accessions Interactor A",
    "REFSEQ Accessions Interactor A", "SWISS-PROT Accessions Interactor B",
    "TREMBL Accessions Interactor B", "REFSEQ Accessions Interactor B", "Ontology Term IDs",
    "Ontology Term Names", "Ontology Term Categories", "Ontology Term Qualifier IDs",
    "Ontology Term Qualifier Names", "Ontology Term Types", "Organism Name Interactor A",
    "Organism Name Interactor B",
]
#: NCBI taxon id BioGRID gives S. cerevisiae S288C.
YEAST_TAXON = 559292
#: ``Experimental System Type`` → network name.
SYSTEM_TYPES = {"physical": "physical", "genetic": "genetic"}
_COL = {name: i for i, name in enumerate(TAB3_COLUMNS)}
_USED = [_COL[c] for c in ("Systematic Name Interactor A", "Systematic Name Interactor B",
                           "Experimental System", "Experimental System Type",
                           "Organism ID Interactor A", "Organism ID Interactor B")]


def read_biogrid_tab3(path: PathLike, genes: Collection[str] | None,
                      qc: QCReport | None = None) -> pd.DataFrame:
    """Read a BioGRID TAB3 organism file into the canonical networks ``physical``, ``genetic``.

    Args:
        path: The ``.tab3.txt`` file (plain or gzip).
        genes: Gene universe; rows naming another ORF are dropped (QC
            ``genes_outside_universe``). ``None`` keeps every ORF.
        qc: Report to count into: ``rows_read``, ``rows_physical``, ``rows_genetic``,
            ``rows_non_yeast`` (an interactor's organism is not 559292),
            ``rows_without_systematic_orf`` (``-`` or not an ORF), ``genes_outside_universe``,
            ``self_loops``, ``duplicate_edges_merged``, ``edges_<network>``;
            ``info["experimental_systems"]`` = rows per experimental system.

    Raises:
        InputFormatError: wrong header, wrong field count, a system type other than
            physical/genetic or a non-integer organism id (file and 1-based line).
    """
    qc = qc if qc is not None else QCReport(path)
    columns: list[list[str]] = [[] for _ in _USED]
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        raise InputFormatError(path, 1, "empty file; expected the BioGRID TAB3 header")
    _check_header(path, first[1])
    n_fields = len(TAB3_COLUMNS)
    for lineno, line in lines:
        fields = line.split("\t")
        if len(fields) != n_fields:
            raise InputFormatError(path, lineno, f"expected {n_fields} tab-separated fields "
                                                 f"(BioGRID TAB3), found {len(fields)}")
        for column, i in zip(columns, _USED, strict=True):
            column.append(fields[i])
        kind = fields[_USED[3]]
        if kind not in SYSTEM_TYPES:
            raise InputFormatError(path, lineno, f"unknown Experimental System Type {kind!r}; "
                                                 f"expected one of {sorted(SYSTEM_TYPES)}")
        for taxon in (fields[_USED[4]], fields[_USED[5]]):
            if not taxon.isdigit():
                raise InputFormatError(path, lineno, f"organism id {taxon!r} is not an integer")
    a, b, system, kind, org_a, org_b = (np.array(c, dtype=object) for c in columns)
    qc.count("rows_read", len(a))
    for name in SYSTEM_TYPES:
        qc.count(f"rows_{name}", int((kind == name).sum()))
    qc.info["experimental_systems"] = dict(sorted(Counter(system.tolist()).items()))

    yeast = (org_a.astype(np.int64) == YEAST_TAXON) & (org_b.astype(np.int64) == YEAST_TAXON)
    _count_dropped(qc, "rows_non_yeast", ~yeast, a, b)
    valid = {name: is_orf(name) for name in pd.unique(np.concatenate([a, b]))}
    orf = pd.Series(a).map(valid).to_numpy(bool) & pd.Series(b).map(valid).to_numpy(bool)
    without = yeast & ~orf
    _count_dropped(qc, "rows_without_systematic_orf", without, a, b)
    keep = yeast & orf
    rows = pd.DataFrame({"gene_a": a[keep], "gene_b": b[keep], "kind": kind[keep]})
    rows = keep_known_genes(rows, genes, qc)
    tables = [finish_edges(rows[rows["kind"] == name], network, directed=False, qc=qc)
              for name, network in SYSTEM_TYPES.items()]
    log.info("%s: %s rows → %s", path, f"{len(a):,}",
             ", ".join(f"{t['network'].iat[0]} {len(t):,}" for t in tables if len(t)))
    return concat_networks(tables)


def _check_header(path: PathLike, line: str) -> None:
    header = line.split("\t")
    if header != TAB3_COLUMNS:
        missing = [c for c in TAB3_COLUMNS if c not in header]
        hint = ("; this looks like the older TAB2 format (24 columns): download the .tab3 file"
                if "Pubmed ID" in header else "")
        raise InputFormatError(
            path, 1, f"not a BioGRID TAB3 header: expected {len(TAB3_COLUMNS)} tab-separated "
            f"columns starting with {TAB3_COLUMNS[0]!r}, found {len(header)} starting with "
            f"{header[0][:40]!r}" + (f"; missing {missing[:5]}" if missing else "") + hint)


def _count_dropped(qc: QCReport, key: str, mask: np.ndarray, a: np.ndarray,
                   b: np.ndarray) -> None:
    if mask.any():
        qc.count(key, int(mask.sum()))
        for i in np.flatnonzero(mask)[: QCReport.max_examples]:
            qc.count(key, 0, example=f"{a[i]} {b[i]}")
