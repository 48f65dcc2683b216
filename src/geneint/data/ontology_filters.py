"""The filters that turn a GO DAG and its annotations into DCell's ontology, in TorchCell's order.

raw → annotation date cut-off (optional) → drop evidence codes (IGI) → restrict annotations to
the gene universe → drop redundant terms (gene set equal to a parent's) → keep terms with at
least ``min_genes`` genes over the term and its descendants.

The term filters work on plain ``children`` / direct ``genes`` maps, so a DCell topology file
(:func:`filter_ontology`) and GO (:func:`build_go_ontology`) go through the same code. A removed
term is *contracted*: its children are reconnected to all of its parents and its direct genes
move up to them, so every surviving term keeps its gene set (GO's propagation: a gene annotated
to a term belongs to all of its ancestors). Each stage's size is recorded in
``qc.info["stages"]`` ({stage, terms, edges, annotations, genes}).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

import pandas as pd

from geneint.data.files import InputFormatError, PathLike, QCReport
from geneint.data.go_annotations import (
    ASPECTS,
    DEFAULT_RELATIONS,
    NAMESPACES,
    read_gaf,
    read_obo,
)
from geneint.data.ontology import SYNTHETIC_ROOT, Ontology

log = logging.getLogger(__name__)

DEFAULT_DROP_EVIDENCE = ("IGI",)
DEFAULT_MIN_GENES = 4


class _Dag:
    """A mutable DAG with direct genes; terms without parents are its tops."""

    def __init__(self, children: Mapping[str, Iterable[str]],
                 genes: Mapping[str, Iterable[str]]) -> None:
        self.children = {t: set(k) for t, k in children.items()}
        self.genes = {t: set(genes.get(t, ())) for t in self.children}
        self.parents: dict[str, set[str]] = {t: set() for t in self.children}
        for term, kids in self.children.items():
            for kid in kids:
                self.parents[kid].add(term)

    def counts(self) -> dict[str, int]:
        return {"terms": len(self.children),
                "edges": sum(len(k) for k in self.children.values()),
                "annotations": sum(len(g) for g in self.genes.values()),
                "genes": len(set().union(*self.genes.values()))}

    def gene_bits(self) -> dict[str, int]:
        """Each term's gene set (term + descendants) as a bitset over a gene numbering."""
        index = {g: i for i, g in enumerate(sorted(set().union(*self.genes.values())))}
        bits: dict[str, int] = {}
        try:
            order = list(TopologicalSorter(self.children).static_order())  # children first
        except CycleError as exc:
            raise ValueError(f"the terms form a cycle ({' -> '.join(exc.args[1])})") from None
        for term in order:
            value = 0
            for gene in self.genes[term]:
                value |= 1 << index[gene]
            for kid in self.children[term]:
                value |= bits[kid]
            bits[term] = value
        return bits

    def remove(self, term: str) -> int:
        """Contract ``term``; return the number of new parent → child edges."""
        parents, kids = self.parents.pop(term), self.children.pop(term)
        genes = self.genes.pop(term)
        new = 0
        for parent in parents:
            self.children[parent].discard(term)
            new += len(kids - self.children[parent])
            self.children[parent] |= kids
            self.genes[parent] |= genes
        for kid in kids:
            self.parents[kid].discard(term)
            self.parents[kid] |= parents
        return new


def _record(stages: list[dict], name: str, dag: _Dag) -> None:
    stages.append({"stage": name, **dag.counts()})
    log.debug("ontology stage %s: %s", name, stages[-1])


def _remove_all(dag: _Dag, doomed: list[str], qc: QCReport, key: str) -> None:
    for term in doomed:
        moved = len(dag.genes[term])
        if not dag.parents[term]:
            qc.count(f"{key}_root_annotations_lost", moved)
        else:
            qc.count("annotations_moved_to_parents", moved)
        qc.count("edges_reconnected", dag.remove(term))
        qc.count(f"terms_removed_{key}", example=term)


def _term_filters(dag: _Dag, min_genes: int, qc: QCReport, stages: list[dict]) -> None:
    """Redundancy then containment (removed terms contracted; surviving gene sets unchanged)."""
    if min_genes < 1:
        raise ValueError(f"min_genes must be at least 1, got {min_genes}")
    bits = dag.gene_bits()
    redundant = sorted(t for t in dag.children
                       if any(bits[t] == bits[p] for p in dag.parents[t]))
    _remove_all(dag, redundant, qc, "redundant")
    _record(stages, "redundant", dag)
    small = sorted(t for t in dag.children if bits[t].bit_count() < min_genes)
    if len(small) == len(dag.children):
        largest = max((b.bit_count() for b in bits.values()), default=0)
        raise ValueError(f"no term has min_genes = {min_genes} genes of the gene universe "
                         f"(the largest has {largest}): the ontology would be empty")
    _remove_all(dag, small, qc, "min_genes")
    _record(stages, "min_genes", dag)


def _restrict(dag: _Dag, universe: set[str], qc: QCReport) -> None:
    outside: set[str] = set()
    for term, genes in dag.genes.items():
        drop = genes - universe
        if drop:
            qc.count("annotations_outside_universe", len(drop), example=f"{term} {min(drop)}")
            outside |= drop
            genes -= drop
    qc.count("genes_outside_universe", len(outside))


def _to_ontology(dag: _Dag, names: Mapping[str, str], source: PathLike) -> Ontology:
    try:
        return Ontology.from_edges(dag.children, dag.genes,
                                   {t: names[t] for t in dag.children if t in names},
                                   source=source)
    except ValueError as exc:
        raise InputFormatError(source, 0, str(exc).removeprefix(f"{source}: ")) from None


def filter_ontology(ontology: Ontology, genes_universe: Iterable[str],
                    min_genes: int = DEFAULT_MIN_GENES, qc: QCReport | None = None) -> Ontology:
    """An ontology used as is (a DCell topology file), restricted to the gene universe and
    filtered by redundancy and containment."""
    qc = qc if qc is not None else QCReport("ontology")
    children = {t: k for t, k in ontology.children.items() if t != SYNTHETIC_ROOT}
    dag = _Dag(children, ontology.genes)
    stages: list[dict] = []
    qc.info["stages"] = stages
    _record(stages, "raw", dag)
    _restrict(dag, set(genes_universe), qc)
    _record(stages, "universe", dag)
    _term_filters(dag, min_genes, qc, stages)
    return _to_ontology(dag, ontology.names, "ontology")


def annotation_map(annotations: pd.DataFrame) -> dict[str, set[str]]:
    """term → genes directly annotated to it (one entry per gene and term, whatever the rows)."""
    pairs = annotations[["term", "gene"]].drop_duplicates()
    out: dict[str, set[str]] = {}
    for term, gene in zip(pairs["term"], pairs["gene"], strict=True):
        out.setdefault(term, set()).add(gene)
    return out


def _annotation_stage(dag: _Dag, annotations: pd.DataFrame, name: str,
                      stages: list[dict]) -> None:
    genes = annotation_map(annotations)
    dag.genes = {t: genes.get(t, set()) for t in dag.children}
    _record(stages, name, dag)


def build_go_ontology(obo: PathLike, gaf: PathLike, genes: Iterable[str],
                      namespaces: Iterable[str] = NAMESPACES,
                      relations: Iterable[str] = DEFAULT_RELATIONS,
                      drop_evidence: Iterable[str] = DEFAULT_DROP_EVIDENCE,
                      min_genes: int = DEFAULT_MIN_GENES,
                      annotation_date_max: int | None = None,
                      qc: QCReport | None = None) -> Ontology:
    """go-basic.obo + a GAF → DCell's ontology over the gene universe ``genes`` (stages above).

    Annotations to a term's ``alt_id`` count for the term; annotations to terms outside the
    chosen namespaces or absent from the OBO (obsolete, unknown) are dropped and counted.
    """
    qc = qc if qc is not None else QCReport([obo, gaf])
    namespaces = tuple(namespaces)
    terms = read_obo(obo, namespaces, relations, qc=qc)
    frame = read_gaf(gaf, qc=qc)
    alt = frame["term"].isin(terms.alt_ids.keys())
    qc.count("annotation_rows_to_alt_ids", int(alt.sum()))
    frame.loc[alt, "term"] = frame.loc[alt, "term"].map(terms.alt_ids)
    known = frame["term"].isin(terms.namespace.keys())
    wanted = frame["aspect"].map(ASPECTS).isin(namespaces)
    qc.count("annotation_rows_namespace_not_selected", int((~wanted).sum()))
    lost = frame[wanted & ~known]
    qc.count("annotation_rows_unknown_or_obsolete_term", len(lost),
             example=None if lost.empty else f"{lost['gene'].iat[0]} {lost['term'].iat[0]}")
    frame = frame[wanted & known]

    dag = _Dag(terms.children, {})
    stages: list[dict] = []
    qc.info["stages"] = stages
    _annotation_stage(dag, frame, "raw", stages)
    if annotation_date_max is not None:
        if not 19000101 <= annotation_date_max <= 99991231:
            raise ValueError(f"annotation_date_max {annotation_date_max} is not YYYYMMDD")
        late = frame["date"] > annotation_date_max
        qc.count("annotation_rows_after_date_max", int(late.sum()))
        frame = frame[~late]
        _annotation_stage(dag, frame, "date", stages)
    dropped = frame["evidence"].isin(list(drop_evidence))
    qc.count("annotation_rows_evidence_dropped", int(dropped.sum()))
    frame = frame[~dropped]
    _annotation_stage(dag, frame, "evidence", stages)
    _restrict(dag, set(genes), qc)
    _record(stages, "universe", dag)
    _term_filters(dag, min_genes, qc, stages)
    qc.info.update(namespaces=list(namespaces), relations=list(relations),
                   drop_evidence=list(drop_evidence), min_genes=min_genes,
                   annotation_date_max=annotation_date_max)
    return _to_ontology(dag, terms.names, obo)
