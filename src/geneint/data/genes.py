"""The gene universe: SGD's ``SGD_features.tab``, the genes of the STRING releases, or the gene
list that ships with a network release (DANGO's ``yeast_string_genes.txt``).

``SGD_features.tab`` (https://downloads.yeastgenome.org/curation/chromosomal_feature/) is
tab-separated with 16 columns and no header: 1 SGDID, 2 feature type (``ORF``, ``CDS``,
``tRNA_gene``…), 3 qualifier (``Verified``, ``Uncharacterized``, ``Dubious``…), 4 systematic
name, 5 standard name, 6 aliases, 7 parent feature, 8 secondary SGDID, 9 chromosome, 10 start,
11 stop, 12 strand, 13 genetic position, 14 coordinate version, 15 sequence version,
16 description.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    QCReport,
    is_orf,
    iter_lines,
    write_text_atomic,
)

log = logging.getLogger(__name__)

SGD_N_COLUMNS = 16
#: How the node set of every graph is chosen (config key ``genes.universe``).
UNIVERSE_MODES = ("sgd", "string", "intersection", "union", "network_genes")


def read_sgd_features(
    path: PathLike,
    feature_types: Iterable[str] = ("ORF",),
    qualifiers: Iterable[str] | None = None,
    qc: QCReport | None = None,
) -> pd.DataFrame:
    """Read the systematic genes of ``SGD_features.tab``.

    Args:
        path: the published file (plain or gzipped).
        feature_types: feature types (column 2) to keep; ``("ORF",)`` gives the ~6,600 ORFs.
        qualifiers: if given, keep only these qualifiers (e.g. ``("Verified",
            "Uncharacterized")`` to drop dubious ORFs); every dropped row is counted in ``qc``.
        qc: report that receives the counts.

    Returns:
        Frame with columns ``gene``, ``standard_name``, ``qualifier``, one row per gene, in file
        order.
    """
    qc = qc if qc is not None else QCReport(path)
    keep_types = set(feature_types)
    keep_qualifiers = set(qualifiers) if qualifiers is not None else None
    rows: list[tuple[str, str, str]] = []
    seen: dict[str, int] = {}
    for lineno, line in iter_lines(path):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != SGD_N_COLUMNS:
            raise InputFormatError(
                path, lineno, f"expected {SGD_N_COLUMNS} tab-separated columns, found "
                f"{len(fields)}: {line[:120]!r}"
            )
        qc.count("rows_read")
        if fields[1] not in keep_types:
            qc.count("rows_other_feature_type")
            continue
        gene, standard, qualifier = fields[3], fields[4], fields[2]
        if not is_orf(gene):
            raise InputFormatError(path, lineno, f"unknown gene: {gene!r} is not a systematic "
                                                 "yeast gene name")
        if keep_qualifiers is not None and qualifier not in keep_qualifiers:
            qc.count(f"genes_qualifier_{qualifier or 'none'}_dropped", example=gene)
            continue
        if gene in seen:
            raise InputFormatError(path, lineno, f"gene {gene} repeats line {seen[gene]}")
        seen[gene] = lineno
        rows.append((gene, standard, qualifier))
    if not rows:
        raise InputFormatError(path, 0, f"no features of type {sorted(keep_types)} found")
    qc.count("genes", len(rows))
    return pd.DataFrame(rows, columns=["gene", "standard_name", "qualifier"])


def write_sgd_features(frame: pd.DataFrame, path: PathLike) -> None:
    """Write genes in the published 16-column ``SGD_features.tab`` layout (for fixtures/demo).

    ``frame`` columns: gene, standard_name, qualifier, chromosome (1–16), start, stop, strand
    (``W``/``C``), description. SGDIDs are made up from the row number (``S1000000001``…).
    """
    lines = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        fields = [
            f"S{1_000_000_000 + i}", "ORF", row.qualifier, row.gene, row.standard_name, "",
            f"chromosome {row.chromosome}", "", str(row.chromosome), str(row.start),
            str(row.stop), row.strand, "", "2011-02-03", "2011-02-03", row.description,
        ]
        lines.append("\t".join(fields) + "\n")
    write_text_atomic(path, "".join(lines))


def build_gene_universe(
    mode: str,
    sgd_genes: Iterable[str] | None = None,
    string_genes: Iterable[str] | None = None,
    network_genes: Iterable[str] | None = None,
) -> list[str]:
    """Combine SGD and STRING gene sets into the sorted gene index every graph shares.

    Args:
        mode: ``sgd`` (all SGD genes), ``string`` (genes of the configured STRING releases),
            ``intersection`` or ``union`` of the two, or ``network_genes`` (the gene list that
            ships with the networks, isolated genes included).
        sgd_genes: genes from :func:`read_sgd_features`; required for sgd/intersection/union.
        string_genes: genes seen in the STRING files; required for string/intersection/union.
        network_genes: the networks' gene list; required for ``network_genes``.
    """
    if mode not in UNIVERSE_MODES:
        raise ValueError(f"unknown gene universe mode {mode!r}; choose one of {UNIVERSE_MODES}")
    if mode == "network_genes":
        if network_genes is None:
            raise ValueError("gene universe mode 'network_genes' needs the networks' gene list")
        genes = sorted(set(network_genes))
        if not genes:
            raise ValueError("gene universe (network_genes) is empty")
        return genes
    if mode != "string" and sgd_genes is None:
        raise ValueError(f"gene universe mode {mode!r} needs the SGD features file")
    if mode != "sgd" and string_genes is None:
        raise ValueError(f"gene universe mode {mode!r} needs at least one STRING release")
    sgd = set(sgd_genes) if sgd_genes is not None else set()
    string = set(string_genes) if string_genes is not None else set()
    genes = {"sgd": sgd, "string": string, "intersection": sgd & string,
             "union": sgd | string}[mode]
    if not genes:
        raise ValueError(f"gene universe ({mode}) is empty")
    return sorted(genes)
