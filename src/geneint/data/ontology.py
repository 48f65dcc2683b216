"""The canonical ontology between stages: a DAG of terms (DCell's subsystems), each with its
child terms and its directly annotated genes.

``ontology.json`` is the one file the ontology stage writes and DCell reads::

    {"format": "geneint-ontology", "version": 1, "root": "GO:0008150",
     "terms": [{"id": "GO:0000724", "name": "...", "genes": ["YBR289W", ...],
                "children": ["GO:0000727", ...]}, ...]}

Terms are listed leaves first (every term after all of its children) and end with the root.
``genes`` are the term's *direct* genes; a term's gene set is the union over the term and its
descendants (:meth:`Ontology.gene_sets`), which is what sizes it. Two readers build one:
:func:`read_dcell_topology` (the DCell authors' ``ROOT:/GENES:/TERMS:`` file, used as is) and
:mod:`geneint.data.go_annotations` with :mod:`geneint.data.ontology_filters` (GO OBO + GAF).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from geneint.data.files import InputFormatError, PathLike, iter_lines, write_text_atomic

FORMAT = "geneint-ontology"
VERSION = 1
#: The root added above several top terms (e.g. GO's three namespaces).
SYNTHETIC_ROOT = "ROOT"


@dataclass(frozen=True)
class Ontology:
    """A rooted DAG of terms, listed leaves first (see the module docstring).

    Build one with :meth:`from_edges`, which orders the terms and checks the DAG.
    """

    root: str
    terms: tuple[str, ...]
    children: Mapping[str, tuple[str, ...]]
    genes: Mapping[str, tuple[str, ...]]
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_edges(cls, children: Mapping[str, Iterable[str]],
                   genes: Mapping[str, Iterable[str]], names: Mapping[str, str] | None = None,
                   source: PathLike = "ontology") -> Ontology:
        """Order ``children`` (term → child terms; every term a key) leaves first.

        Several terms without a parent get a common :data:`SYNTHETIC_ROOT`. Raises
        ``ValueError`` naming ``source`` for a cycle or a child that is not a term.
        """
        graph = nx.DiGraph()
        graph.add_nodes_from(children)
        for term, kids in children.items():
            for kid in kids:
                if kid not in children:
                    raise ValueError(f"{source}: {term} lists child {kid}, which is not a term")
                graph.add_edge(term, kid)
        if not nx.is_directed_acyclic_graph(graph):
            cycle = " -> ".join(a for a, _ in nx.find_cycle(graph))
            raise ValueError(f"{source}: the terms form a cycle ({cycle})")
        if graph.number_of_nodes() == 0:
            raise ValueError(f"{source}: no terms")
        tops = sorted(t for t in graph if graph.in_degree(t) == 0)
        kids_of = {t: tuple(sorted(children[t])) for t in children}
        gene_map = {t: tuple(sorted(set(genes.get(t, ())))) for t in children}
        root = tops[0]
        if len(tops) > 1:
            root = SYNTHETIC_ROOT
            if root in kids_of:
                raise ValueError(f"{source}: a term is called {root}, the synthetic root")
            kids_of[root], gene_map[root] = tuple(tops), ()
            graph.add_edges_from((root, t) for t in tops)
        # Leaves first, deterministic within a generation.
        order = [t for generation in nx.topological_generations(graph.reverse(copy=False))
                 for t in sorted(generation)]
        order.remove(root)
        return cls(root=root, terms=(*order, root), children=kids_of, genes=gene_map,
                   names=dict(names or {}))

    def __len__(self) -> int:
        return len(self.terms)

    @cached_property
    def parents(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {t: [] for t in self.terms}
        for term in self.terms:
            for kid in self.children[term]:
                out[kid].append(term)
        return {t: tuple(sorted(p)) for t, p in out.items()}

    @cached_property
    def gene_sets(self) -> dict[str, frozenset[str]]:
        """Genes of each term and its descendants."""
        out: dict[str, frozenset[str]] = {}
        for term in self.terms:  # children come first
            out[term] = frozenset(self.genes[term]).union(
                *(out[kid] for kid in self.children[term]))
        return out

    @cached_property
    def height(self) -> dict[str, int]:
        """Longest path down to a leaf (leaves 0): a term's stratum in a leaves-to-root pass."""
        out: dict[str, int] = {}
        for term in self.terms:
            out[term] = 1 + max((out[k] for k in self.children[term]), default=-1)
        return out

    def strata(self) -> list[list[str]]:
        """Terms grouped by :attr:`height`: every child is in an earlier stratum."""
        groups: list[list[str]] = [[] for _ in range(self.height[self.root] + 1)]
        for term in self.terms:
            groups[self.height[term]].append(term)
        return groups

    @property
    def all_genes(self) -> frozenset[str]:
        return self.gene_sets[self.root]

    def counts(self) -> dict[str, int]:
        """Terms, parent → child edges and direct annotations (the QC report's columns)."""
        return {"terms": len(self.terms),
                "edges": sum(len(k) for k in self.children.values()),
                "annotations": sum(len(g) for g in self.genes.values()),
                "genes": len(self.all_genes), "strata": len(self.strata())}


def write_ontology(ontology: Ontology, path: PathLike) -> None:
    terms = [{"id": t, "name": ontology.names.get(t, ""), "genes": list(ontology.genes[t]),
              "children": list(ontology.children[t])} for t in ontology.terms]
    body = {"format": FORMAT, "version": VERSION, "root": ontology.root,
            "counts": ontology.counts(), "terms": terms}
    write_text_atomic(path, json.dumps(body, indent=1) + "\n")


def read_ontology(path: PathLike) -> Ontology:
    """Read ``ontology.json``, checking its format, its DAG and its root."""
    try:
        body = json.loads(open(path, encoding="utf-8").read())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFormatError(path, 0, f"not a readable ontology.json ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise InputFormatError(path, 0, f"not a {FORMAT} file (write it with "
                                        "`geneint parse ontology`)")
    if body.get("version") != VERSION:
        raise InputFormatError(path, 0, f"version {body.get('version')}; this geneint reads "
                                        f"version {VERSION}")
    try:
        terms = body["terms"]
        children = {t["id"]: t["children"] for t in terms}
        genes = {t["id"]: t["genes"] for t in terms}
        names = {t["id"]: t["name"] for t in terms if t.get("name")}
    except (KeyError, TypeError) as exc:
        raise InputFormatError(path, 0, f"a term lacks {exc}") from None
    ontology = Ontology.from_edges(children, genes, names, source=path)
    if ontology.root != body.get("root"):
        raise InputFormatError(path, 0, f"root is {body.get('root')!r} but the DAG's top is "
                                        f"{ontology.root!r}")
    return ontology


def read_dcell_topology(path: PathLike) -> Ontology:
    """The DCell topology format: per term, ``ROOT: <term> <n genes>``, ``GENES: <ORFs>``,
    ``TERMS: <child terms>``; ``n genes`` counts the term and its descendants and is checked."""
    blocks: list[tuple[int, str, int, list[str], list[str]]] = []
    expected = "ROOT:"
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        key, _, rest = line.strip().partition(" ")
        if key != expected:
            raise InputFormatError(path, number, f"expected a {expected} line, got {line[:40]!r}")
        fields = rest.split()
        if key == "ROOT:":
            if len(fields) != 2 or not fields[1].isdigit():
                raise InputFormatError(path, number, "ROOT: needs a term id and a gene count")
            blocks.append((number, fields[0], int(fields[1]), [], []))
            expected = "GENES:"
        elif key == "GENES:":
            blocks[-1][3].extend(fields)
            expected = "TERMS:"
        else:
            blocks[-1][4].extend(fields)
            expected = "ROOT:"
    if expected != "ROOT:":
        raise InputFormatError(path, 0, f"the last term's block ends before its {expected} line")
    seen: dict[str, int] = {}
    for number, term, *_ in blocks:
        if term in seen:
            raise InputFormatError(path, number, f"{term} repeats the block of line {seen[term]}")
        seen[term] = number
    try:
        ontology = Ontology.from_edges({b[1]: b[4] for b in blocks},
                                       {b[1]: b[3] for b in blocks}, source=path)
    except ValueError as exc:
        raise InputFormatError(path, 0, str(exc).removeprefix(f"{path}: ")) from None
    for number, term, n_genes, *_ in blocks:
        if len(ontology.gene_sets[term]) != n_genes:
            raise InputFormatError(path, number, f"{term} declares {n_genes} genes but has "
                                   f"{len(ontology.gene_sets[term])} over its descendants")
    return ontology
