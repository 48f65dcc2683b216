"""Readers of the published Gene Ontology files: the term DAG (OBO 1.2) and SGD's GAF 2.x.

``go-basic.obo`` (http://purl.obolibrary.org/obo/go/go-basic.obo)
    header tags (``format-version: 1.2``, ``data-version: releases/YYYY-MM-DD``), then
    ``[Term]`` stanzas (``id``, ``name``, ``namespace``, ``is_a: GO:… ! name``,
    ``relationship: part_of GO:…``, ``is_obsolete: true``, ``alt_id``) and ``[Typedef]`` stanzas.
    Parsed with obonet; :func:`read_obo` keeps the chosen namespaces and relations.

``sgd.gaf.gz`` (http://current.geneontology.org/annotations/sgd.gaf.gz)
    ``!`` comment header starting with ``!gaf-version: 2.2``, then 17 tab-separated columns:
    DB, DB Object ID, Symbol, Qualifier, GO ID, Reference, Evidence, With/From, Aspect, Object
    name, Synonyms (``YGR149W|…``: the systematic ORF), Object type, Taxon, Date (YYYYMMDD),
    Assigned by, Annotation extension, Gene product form id. Read by :func:`read_gaf`.

Malformed input raises :class:`~geneint.data.files.InputFormatError` (path:line: problem);
whatever is deliberately dropped (obsolete terms, NOT rows, rows without an ORF, relations not
selected) is counted in the :class:`~geneint.data.files.QCReport`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from geneint.data.files import InputFormatError, PathLike, QCReport, is_orf, iter_lines

NAMESPACES = ("biological_process", "molecular_function", "cellular_component")
#: Relations whose direction is "child <relation> parent", so that genes of the child belong to
#: the parent (has_part points the other way and is not offered).
RELATIONS = ("is_a", "part_of", "regulates", "positively_regulates", "negatively_regulates")
DEFAULT_RELATIONS = ("is_a", "part_of")
ASPECTS = {"P": "biological_process", "F": "molecular_function", "C": "cellular_component"}
GAF_COLUMNS = ("db", "db_object_id", "symbol", "qualifier", "go_id", "reference", "evidence",
               "with_from", "aspect", "object_name", "synonyms", "object_type", "taxon", "date",
               "assigned_by", "extension", "gene_product_form")
GO_ID = re.compile(r"^GO:\d{7}$")
_DATE = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")


@dataclass
class GoTerms:
    """The DAG read from an OBO file: ``children`` maps every kept term to its child terms."""

    children: dict[str, set[str]]
    names: dict[str, str]
    namespace: dict[str, str]
    #: ``alt_id`` → primary id, so that annotations made to a merged term are not lost.
    alt_ids: dict[str, str] = field(default_factory=dict)
    data_version: str = ""


def _qc(qc: QCReport | None, path: PathLike) -> QCReport:
    return qc if qc is not None else QCReport(path)


def _check_relationship_lines(path: PathLike, lines: list[str]) -> None:
    """obonet reports a malformed ``relationship:`` value without a line; find it here."""
    for number, line in enumerate(lines, start=1):
        if line.startswith("relationship:"):
            value = line.partition(":")[2].split(" !")[0].split("{")[0].split()
            if len(value) != 2:
                raise InputFormatError(path, number, "relationship: needs '<relation> <term id>',"
                                       f" got {line[:60]!r}")


def _parse_obo(path: PathLike, lines: list[str]):
    import obonet

    _check_relationship_lines(path, lines)
    try:
        return obonet.read_obo(io.StringIO("\n".join(lines)), ignore_obsolete=False)
    except ValueError as exc:
        head, _, bad = str(exc).partition("\n")
        bad = bad.strip()
        number = next((i for i, line in enumerate(lines, start=1)
                       if bad and line.strip() == bad), 0)
        problem = f"{bad[:60]!r} is not a 'tag: value' line" if bad else head
        raise InputFormatError(path, number, f"not OBO syntax: {problem}") from None


def read_obo(path: PathLike, namespaces: Iterable[str] = NAMESPACES,
             relations: Iterable[str] = DEFAULT_RELATIONS, qc: QCReport | None = None
             ) -> GoTerms:
    """The term DAG of ``namespaces`` over ``relations`` (edges parent → child), obsolete terms
    and edges that cross into an unselected namespace dropped and counted."""
    namespaces, relations = tuple(namespaces), tuple(relations)
    for ns in namespaces:
        if ns not in NAMESPACES:
            raise ValueError(f"unknown GO namespace {ns!r}; choose from {NAMESPACES}")
    for relation in relations:
        if relation not in RELATIONS:
            raise ValueError(f"relation {relation!r} is not one of {RELATIONS} (a child's genes "
                             "must belong to its parent)")
    qc = _qc(qc, path)
    lines = [line for _, line in iter_lines(path)]
    first = next((i for i, line in enumerate(lines, start=1) if line.strip()), 0)
    if not first or not lines[first - 1].startswith("format-version:"):
        raise InputFormatError(path, first, "not an OBO file: it must start with a "
                                            "'format-version:' header line")
    graph = _parse_obo(path, lines)
    id_line = {line[4:].strip(): i for i, line in enumerate(lines, start=1)
               if line.startswith("id: ")}
    default_ns = graph.graph.get("default-namespace")
    if isinstance(default_ns, list):
        default_ns = default_ns[0]
    terms = [t for t, data in graph.nodes(data=True) if data]  # no data: only referenced
    if not terms:
        raise InputFormatError(path, 0, "no [Term] stanza: not a GO ontology")
    kept: dict[str, str] = {}
    names: dict[str, str] = {}
    alt_ids: dict[str, str] = {}
    for term in terms:
        data = graph.nodes[term]
        if data.get("is_obsolete") == "true":
            qc.count("obo_obsolete_terms", example=term)
            continue
        ns = data.get("namespace", default_ns)
        if ns is None:
            raise InputFormatError(path, id_line.get(term, 0), f"{term} has no namespace")
        if ns not in namespaces:
            qc.count("obo_terms_namespace_not_selected")
            continue
        kept[term] = ns
        names[term] = data.get("name", "")
        for alt in data.get("alt_id", []):
            alt_ids[alt] = term
    children: dict[str, set[str]] = {t: set() for t in kept}
    for child, parent, relation in graph.edges(keys=True):
        edge = f"{child} {relation} {parent}"
        if child not in kept and parent not in kept:
            continue
        if relation not in relations:
            if child in kept:
                qc.count("obo_edges_relation_not_selected", example=edge)
        elif child not in kept or parent not in kept:
            other = graph.nodes[parent if child in kept else child]
            if other and other.get("is_obsolete") != "true":
                qc.count("obo_edges_cross_namespace_dropped", example=edge)
            elif child in kept:
                qc.count("obo_edges_to_unknown_or_obsolete_terms", example=edge)
        elif child in children[parent]:
            qc.count("obo_duplicate_edges", example=f"{parent} -> {child} ({relation})")
        else:
            children[parent].add(child)
    qc.info["obo_data_version"] = graph.graph.get("data-version", "")
    qc.info["obo_terms"] = len(kept)
    return GoTerms(children=children, names=names, namespace=kept, alt_ids=alt_ids,
                   data_version=graph.graph.get("data-version", ""))


def gaf_gene(symbol: str, synonyms: str) -> str | None:
    """The systematic ORF of a GAF row: the first ORF among the synonyms, else the symbol."""
    for name in synonyms.split("|"):
        if is_orf(name.strip()):
            return name.strip()
    return symbol if is_orf(symbol) else None


def read_gaf(path: PathLike, qc: QCReport | None = None) -> pd.DataFrame:
    """One row per positive annotation: gene (ORF), term, evidence, date (int YYYYMMDD),
    aspect (P/F/C). ``NOT`` rows and rows whose gene has no ORF are dropped and counted."""
    qc = _qc(qc, path)
    version_seen = False
    out: dict[str, list] = {"gene": [], "term": [], "evidence": [], "date": [], "aspect": []}
    for number, line in iter_lines(path):
        if line.startswith("!"):
            tag, _, value = line[1:].partition(":")
            if tag.strip().lower() == "gaf-version":
                if not value.strip().startswith("2"):
                    raise InputFormatError(path, number, f"GAF version {value.strip()!r}; "
                                                         "this reader reads GAF 2.x")
                version_seen = True
            continue
        if not line.strip():
            continue
        if not version_seen:
            raise InputFormatError(path, number, "no '!gaf-version: 2.x' header before the "
                                                 "first row: not a GAF file")
        fields = line.split("\t")
        if len(fields) != len(GAF_COLUMNS):
            raise InputFormatError(path, number, f"{len(fields)} tab-separated columns, GAF 2.x "
                                                 f"has {len(GAF_COLUMNS)}")
        symbol, qualifier, term = fields[2], fields[3], fields[4]
        evidence, aspect, synonyms, date = fields[6], fields[8], fields[10], fields[13]
        if not GO_ID.match(term):
            raise InputFormatError(path, number, f"GO ID {term!r} is not GO:<7 digits>")
        if aspect not in ASPECTS:
            raise InputFormatError(path, number, f"aspect {aspect!r} is not P, F or C")
        if not _DATE.match(date):
            raise InputFormatError(path, number, f"date {date!r} is not YYYYMMDD")
        if not evidence:
            raise InputFormatError(path, number, "empty evidence code")
        if "NOT" in qualifier.split("|"):
            qc.count("gaf_not_qualifier_rows", example=f"line {number}: {symbol} NOT {term}")
            continue
        gene = gaf_gene(symbol, synonyms)
        if gene is None:
            qc.count("gaf_rows_without_orf", example=f"line {number}: {fields[1]} {symbol}")
            continue
        for key, value in zip(out, (gene, term, evidence, int(date), aspect), strict=True):
            out[key].append(value)
    if not version_seen:
        raise InputFormatError(path, 0, "no '!gaf-version: 2.x' header: not a GAF file")
    frame = pd.DataFrame(out)
    frame["date"] = frame["date"].astype("int64")
    qc.count("gaf_rows_read", len(frame))
    return frame
