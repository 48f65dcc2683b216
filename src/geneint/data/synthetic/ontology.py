"""A synthetic Gene Ontology carrying the planted signal: ``go/go-basic.obo``, ``go/sgd.gaf.gz``.

Each namespace (biological_process, molecular_function, cellular_component) has its real root,
group terms that gather modules (in biological_process, modules with similar factor centres),
one term per hidden module and below it a tree of sub-terms that split the module's genes (2–4
children each, some genes in two children, a few terms with a second parent), down to six
levels under the root. So a term's genes are mostly genes of one module, as GO terms gather
functionally related genes, and a DCell over this ontology can learn the signal.

Around that structure the files carry what the filters must handle: noise terms with random
genes (the unstructured genes, module −1, get only these or no annotation at all), terms with
fewer than 4 genes, terms whose only child has all their genes (redundant), terms annotated only
by IGI, obsolete terms, alt_ids, ``regulates`` relations, ``NOT`` rows, rows of non-ORF features,
a few per cent of annotations to genes of another module, dates from 2002 to 2024.

The number of terms that pass the default filters follows :func:`term_budget`. Everything is
drawn from ``numpy.random.default_rng([seed, RNG_STREAM])``, a stream of its own, so adding the
ontology left every other synthetic file byte-identical.
"""

from __future__ import annotations

import gzip
import heapq
from pathlib import Path
from typing import Any

import numpy as np

from geneint.data.files import PathLike, atomic_output, write_text_atomic
from geneint.data.synthetic.genes import GeneFactors, GeneTable, sgd_feature_frame
from geneint.data.synthetic.scales import SEED_GENES

GO_OBO_FILE = "go/go-basic.obo"
GAF_FILE = "go/sgd.gaf.gz"
#: Second seed word of the ontology's random stream (``default_rng([seed, RNG_STREAM])``).
RNG_STREAM = 0x60
ROOTS = {"biological_process": "GO:0008150", "molecular_function": "GO:0003674",
         "cellular_component": "GO:0005575"}
ASPECT = {"biological_process": "P", "molecular_function": "F", "cellular_component": "C"}
#: Share of the term budget per namespace, and of the module genes each namespace annotates.
SHARE = {"biological_process": 0.5, "molecular_function": 0.2, "cellular_component": 0.3}
COVERAGE = {"biological_process": 1.0, "molecular_function": 0.85, "cellular_component": 0.9}
WORD = {"biological_process": "process", "molecular_function": "binding activity",
        "cellular_component": "complex"}
QUALIFIERS = {"P": ["involved_in", "acts_upstream_of_or_within"],
              "F": ["enables", "contributes_to"], "C": ["located_in", "part_of", "is_active_in"]}
EVIDENCE = ["IDA", "IMP", "IPI", "IGI", "ISS", "IEA", "HDA", "HMP", "IBA", "TAS", "IC"]
EVIDENCE_P = [0.22, 0.2, 0.1, 0.08, 0.08, 0.12, 0.06, 0.04, 0.05, 0.03, 0.02]
MAX_DEPTH = 6
DATE_RANGE = (np.datetime64("2002-01-01"), np.datetime64("2024-06-30"))


def term_budget(n_genes: int) -> int:
    """Terms expected to pass the default filters: ~0.39 per gene at the real genome size (GO
    over 6.6k yeast genes keeps ~2,600 terms with ≥ 4 genes), fewer per gene below it, as a
    smaller annotated genome supports fewer specific terms (the demo's 600 genes: ~100)."""
    return max(12, round(0.39 * n_genes * min(1.0, n_genes / SEED_GENES) ** 0.36))


class _Builder:
    """Terms as parallel lists (index = creation order; parents are always created first)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.name: list[str] = []
        self.ns: list[str] = []
        self.parents: list[list[tuple[str, int]]] = []
        self.direct: list[np.ndarray] = []
        self.members: list[np.ndarray] = []
        self.igi_only: list[bool] = []

    def add(self, name: str, ns: str, parents: list[tuple[str, int]],
            members: np.ndarray | None = None) -> int:
        self.name.append(name)
        self.ns.append(ns)
        self.parents.append(parents)
        self.direct.append(np.empty(0, dtype=np.int64))
        self.members.append(np.empty(0, dtype=np.int64) if members is None else members)
        self.igi_only.append(False)
        return len(self.name) - 1

    def split_tree(self, top: int, budget: int, depth: int) -> list[int]:
        """Split ``top``'s members largest-first into sub-terms until ``budget`` terms."""
        rng, made, tree = self.rng, 0, [top]
        level: dict[int, list[int]] = {depth: [top]}
        heap = [(-len(self.members[top]), top, depth)]
        while heap:
            _, node, d = heapq.heappop(heap)
            members = self.members[node]
            stay = rng.random(len(members)) < 0.08
            rest = rng.permutation(members[~stay])
            b = min(int(rng.integers(2, 5 if len(rest) < 80 else 7)), len(rest) // 5,
                    budget - made)
            if d >= MAX_DEPTH or b < 2:
                self.direct[node] = members
                continue
            self.direct[node] = members[stay]
            sizes = 4 + rng.multinomial(len(rest) - 4 * b, rng.dirichlet(np.full(b, 2.0)))
            for c, chunk in enumerate(np.split(rest, np.cumsum(sizes)[:-1])):
                extra = rng.choice(rest, size=rng.binomial(len(chunk), 0.1), replace=False)
                relation = "is_a" if rng.random() < 0.8 else "part_of"
                parents = [(relation, node)]
                peers = [t for t in level.get(d, []) if t != node]
                if peers and rng.random() < 0.05:
                    parents.append(("is_a", peers[int(rng.integers(len(peers)))]))
                child = self.add(f"{self.name[node]}.{c + 1}", self.ns[node], parents,
                                 np.unique(np.concatenate([chunk, extra])))
                level.setdefault(d + 1, []).append(child)
                tree.append(child)
                heapq.heappush(heap, (-len(self.members[child]), child, d + 1))
            made += b
        return tree


def _groups(factors: GeneFactors, n_modules: int, n_groups: int, ns: str,
            rng: np.random.Generator) -> list[list[int]]:
    """Modules per group: by similar factor centres (biological_process) or at random."""
    if ns == "biological_process" and n_modules > n_groups:
        from scipy.cluster.hierarchy import fcluster, linkage

        centres = np.stack([factors.unit[factors.module == m].mean(0)
                            if (factors.module == m).any() else np.zeros(factors.z.shape[1])
                            for m in range(n_modules)])
        labels = fcluster(linkage(centres, "average"), n_groups, "maxclust")
    else:
        labels = rng.integers(0, n_groups, size=n_modules)
    return [m for m in ([int(i) for i in np.flatnonzero(labels == g)]
                        for g in np.unique(labels)) if m]


def build_terms(factors: GeneFactors, n_genes: int, rng: np.random.Generator) -> _Builder:
    """The synthetic ontology's terms and their direct genes (gene indices)."""
    b = _Builder(rng)
    module = factors.module
    n_modules = int(module.max()) + 1
    loose = np.flatnonzero(module < 0)
    noisy = loose[rng.random(len(loose)) < 0.6]  # unstructured genes with noise annotations
    structured = np.flatnonzero(module >= 0)
    total = term_budget(n_genes)
    for ns in ROOTS:
        budget = SHARE[ns] * total
        root = b.add(ns, ns, [])
        n_groups = max(2, round(n_modules / 3))
        tops: list[tuple[int, np.ndarray]] = []
        groups: list[int] = []
        for g, mods in enumerate(_groups(factors, n_modules, n_groups, ns, rng)):
            group = b.add(f"{WORD[ns]} group {g + 1}", ns, [("is_a", root)])
            groups.append(group)
            for m in mods:
                genes = np.flatnonzero(module == m)
                genes = genes[rng.random(len(genes)) < COVERAGE[ns]]
                tops.append((b.add(f"{WORD[ns]} {m + 1}", ns, [("is_a", group)], genes), genes))
        left = 0.84 * budget - len(tops) - len(groups)
        tree_terms: list[int] = []
        for top, genes in tops:
            share = max(0, round(left * len(genes) / max(1, sum(len(t[1]) for t in tops))))
            tree_terms += b.split_tree(top, share, depth=2)
        leaves = [t for t in tree_terms if len(b.direct[t]) == len(b.members[t])]
        for t in tree_terms:  # a few annotations to genes of other modules
            wrong = rng.choice(structured, size=rng.binomial(len(b.direct[t]), 0.05))
            b.direct[t] = np.unique(np.concatenate([b.direct[t], wrong]))
        pick = [t for t in tree_terms if len(b.members[t]) >= 4]
        for k in range(round(1.2 * budget)):  # < 4 genes: fail containment
            parent = pick[int(rng.integers(len(pick)))]
            genes = rng.choice(b.members[parent], size=int(rng.integers(1, 4)), replace=False)
            b.direct[b.add(f"{b.name[parent]} minor {k + 1}", ns, [("is_a", parent)])] = genes
        for k in range(round(0.04 * budget)):  # only IGI evidence: empty after the IGI filter
            parent = pick[int(rng.integers(len(pick)))]
            size = min(len(b.members[parent]), int(rng.integers(4, 9)))
            t = b.add(f"{b.name[parent]} genetic {k + 1}", ns, [("is_a", parent)])
            b.direct[t], b.igi_only[t] = rng.choice(b.members[parent], size, replace=False), True
        n_redundant = min(len(leaves), round(0.03 * budget))
        for parent in rng.choice(leaves, size=n_redundant, replace=False).tolist():
            t = b.add(f"{b.name[parent]} specific", ns, [("is_a", parent)])  # = its parent
            b.direct[t], b.direct[parent] = b.direct[parent], np.empty(0, dtype=np.int64)
        inner = sorted(set(tree_terms) - set(leaves))
        for t in rng.choice(inner, size=min(len(inner), round(0.03 * budget)), replace=False):
            wrapper = b.add(f"{b.name[t]} (general)", ns, b.parents[t])  # its only child = it
            b.parents[t] = [("is_a", wrapper)]
        hosts = [b.add(f"{WORD[ns]} (unclassified)", ns, [("is_a", root)]), *groups]
        for k in range(round(0.2 * budget)):  # random genes: no signal
            size = 2 + rng.poisson(5)
            pool = noisy if rng.random() < 0.5 and len(noisy) >= size else structured
            t = b.add(f"{WORD[ns]} miscellaneous {k + 1}", ns,
                      [("is_a", hosts[int(rng.integers(len(hosts)))])])
            b.direct[t] = rng.choice(pool, size=min(size, len(pool)), replace=False)
            if rng.random() < 0.15:
                hosts.append(t)
        if ns == "biological_process":  # regulates: not selected by default
            for t in rng.choice(tree_terms, size=max(1, len(tree_terms) // 30), replace=False):
                b.parents[int(t)].append(("regulates", int(rng.integers(root, int(t)))))
    return b


def _term_ids(b: _Builder, n_extra: int, rng: np.random.Generator) -> list[str]:
    """GO ids: the real roots, random unique 7-digit ids for the rest (+ ``n_extra`` spare)."""
    drawn = iter(rng.choice(np.arange(10_000, 2_300_000), size=len(b.name) + n_extra,
                            replace=False).tolist())
    ids = [ROOTS[ns] if not b.parents[i] and b.name[i] == ns else f"GO:{next(drawn):07d}"
           for i, ns in enumerate(b.ns)]
    return ids + [f"GO:{next(drawn):07d}" for _ in range(n_extra)]


_TYPEDEFS = """[Typedef]
id: part_of
name: part of
namespace: external
xref: BFO:0000050
is_transitive: true

[Typedef]
id: regulates
name: regulates
namespace: external
xref: RO:0002211
is_transitive: true
"""


def obo_text(b: _Builder, ids: list[str], n_obsolete: int, seed: int,
             rng: np.random.Generator) -> tuple[str, dict[str, int]]:
    """go-basic.obo: header, [Term] stanzas sorted by id (obsolete ones too), [Typedef]s."""
    n = len(b.name)
    stanzas: list[tuple[str, str]] = []
    alt = rng.random(n) < 0.02
    alt &= np.cumsum(alt) <= len(ids) - n - n_obsolete
    spare = iter(ids[n + n_obsolete:])
    for i in range(n):
        lines = [f"id: {ids[i]}", f"name: {b.name[i]}", f"namespace: {b.ns[i]}"]
        if alt[i] and b.parents[i]:
            lines.append(f"alt_id: {next(spare)}")
        lines.append(f'def: "A synthetic {b.ns[i].replace("_", " ")} term of the geneint '
                     f'demo ontology." [GOC:geneint]')
        parents = sorted(b.parents[i], key=lambda p: (p[0] != "is_a", ids[p[1]]))
        lines += [f"is_a: {ids[p]} ! {b.name[p]}" if rel == "is_a" else
                  f"relationship: {rel} {ids[p]} ! {b.name[p]}" for rel, p in parents]
        stanzas.append((ids[i], "\n".join(lines)))
    for k in range(n_obsolete):
        ns = list(ROOTS)[k % 3]
        target = int(rng.choice([i for i in range(n) if b.ns[i] == ns and b.parents[i]]))
        stanzas.append((ids[n + k], "\n".join([
            f"id: {ids[n + k]}", f"name: obsolete {WORD[ns]} {k + 1}", f"namespace: {ns}",
            'def: "OBSOLETE. A synthetic term that was merged." [GOC:geneint]',
            "is_obsolete: true", f"replaced_by: {ids[target]}"])))
    header = ("format-version: 1.2\ndata-version: releases/2024-06-17\n"
              'subsetdef: goslim_yeast "Yeast GO slim"\n'
              'synonymtypedef: systematic_synonym "Systematic synonym" EXACT\n'
              "default-namespace: gene_ontology\n"
              f"remark: synthetic ontology written by geneint.data.synthetic (seed {seed})\n"
              "ontology: go\n")
    body = "\n".join(f"[Term]\n{text}\n" for _, text in sorted(stanzas))
    relations = [rel for parents in b.parents for rel, _ in parents]
    stats = {"terms": n, "obsolete_terms": n_obsolete, "alt_ids": int((alt & np.array(
        [bool(p) for p in b.parents])).sum()), **{f"{rel}_edges": relations.count(rel)
                                                   for rel in ("is_a", "part_of", "regulates")}}
    return f"{header}\n{body}\n{_TYPEDEFS}", stats


def gaf_rows(b: _Builder, ids: list[str], genes: GeneTable, n_obsolete: int,
             rng: np.random.Generator) -> tuple[list[str], dict[str, int]]:
    """GAF 2.2 data rows: one or two (evidence, reference) rows per direct annotation, plus NOT
    rows, rows of non-ORF features and rows annotating obsolete terms."""
    frame = sgd_feature_frame(genes)
    sgdid = dict(zip(frame["gene"], (f"S{1_000_000_001 + i}" for i in range(len(frame))),
                     strict=True))
    n_genes = len(genes)
    symbol = [s or g for g, s in zip(genes.names, genes.standard_names, strict=True)]
    product = [f"Synthetic protein {s}" if s else "Putative protein of unknown function"
               for s in genes.standard_names]
    alias_first = rng.random(n_genes) < 0.03
    synonyms = [f"{p.lower()}|{g}" if a else f"{g}|{p.lower()}"
                for g, p, a in zip(genes.names, product, alias_first, strict=True)]
    term_of = np.repeat(np.arange(len(b.name)), [len(d) for d in b.direct])
    gene_of = np.concatenate(b.direct).astype(np.int64)
    not_rows = rng.random(len(term_of)) < 0.01
    not_gene = rng.integers(0, n_genes, size=len(term_of))
    copies = 1 + (rng.random(len(term_of)) < 0.4)
    term_of = np.concatenate([np.repeat(term_of, copies), term_of[not_rows]])
    gene_of = np.concatenate([np.repeat(gene_of, copies), not_gene[not_rows]])
    negated = np.r_[np.zeros(copies.sum(), bool), np.ones(not_rows.sum(), bool)]
    n = len(term_of)
    evidence = rng.choice(EVIDENCE, size=n, p=EVIDENCE_P)
    evidence[np.array(b.igi_only)[term_of]] = "IGI"
    days = (DATE_RANGE[1] - DATE_RANGE[0]).astype(int)
    dates = (DATE_RANGE[0] + rng.integers(0, days, size=n)).astype(str)
    pmid, pick, partner = (rng.integers(10_000_000, 39_000_000, size=n), rng.random(n),
                           rng.integers(0, n_genes, size=n))
    rows: list[tuple[int, str, str]] = []
    for k in range(n):
        g, t, ev = int(gene_of[k]), int(term_of[k]), str(evidence[k])
        aspect = ASPECT[b.ns[t]]
        qualifier = QUALIFIERS[aspect][int(pick[k] * 7) % len(QUALIFIERS[aspect])]
        qualifier = f"NOT|{qualifier}" if negated[k] else qualifier
        ref = "GO_REF:0000002" if ev == "IEA" else f"PMID:{pmid[k]}"
        with_from = (f"SGD:{sgdid[genes.names[partner[k]]]}" if ev in ("IGI", "IPI") else
                     f"InterPro:IPR{pmid[k] % 100_000:06d}" if ev == "IEA" else "")
        rows.append((int(sgdid[genes.names[g]][1:]), ids[t], "\t".join([
            "SGD", sgdid[genes.names[g]], symbol[g], qualifier, ids[t], ref, ev, with_from,
            aspect, product[g], synonyms[g], "protein", "taxon:559292",
            dates[k].replace("-", ""), "SGD", "", f"UniProtKB:P{10_000 + g:05d}"])))
    live = [i for i in range(len(b.name)) if b.parents[i]]
    n_rna = max(2, n // 200)
    for k in range(n_rna + n_obsolete):
        if k < n_rna:  # an RNA gene: no systematic ORF
            sid, sym, term = 1_000_000_001 + len(frame) + k, f"SNR{k + 1}", ids[live[
                int(rng.integers(len(live)))]]
            kind, aspect, name = "snoRNA", "P", "small nucleolar RNA"
        else:  # an annotation to an obsolete term
            g = int(rng.integers(n_genes))
            sid, sym, term = int(sgdid[genes.names[g]][1:]), symbol[g], ids[len(b.name) + k
                                                                              - n_rna]
            kind, aspect, name = "protein", ASPECT[list(ROOTS)[(k - n_rna) % 3]], product[g]
        syn = f"{sym}|{name}" if kind != "protein" else synonyms[g]
        rows.append((sid, term, "\t".join([
            "SGD", f"S{sid}", sym, QUALIFIERS[aspect][0], term, "PMID:10000000", "IMP", "",
            aspect, name, syn, kind, "taxon:559292", "20150601", "SGD", "", ""])))
    rows.sort()
    stats = {"rows": len(rows), "not_rows": int(not_rows.sum()),
             "igi_rows": int((evidence == "IGI").sum()), "rows_without_orf": n_rna,
             "rows_to_obsolete_terms": n_obsolete,
             "genes_annotated": len(set(gene_of[~negated].tolist()))}
    return [r[2] for r in rows], stats


def write_synthetic_go(out_dir: PathLike, genes: GeneTable, factors: GeneFactors,
                       seed: int) -> dict[str, Any]:
    """Write ``go/go-basic.obo`` and ``go/sgd.gaf.gz`` under ``out_dir``; return their stats."""
    rng = np.random.default_rng([seed, RNG_STREAM])
    b = build_terms(factors, len(genes), rng)
    n_obsolete = max(3, len(b.name) // 100)
    ids = _term_ids(b, n_obsolete + len(b.name) // 20 + 10, rng)
    obo, obo_stats = obo_text(b, ids, n_obsolete, seed, rng)
    rows, gaf_stats = gaf_rows(b, ids, genes, n_obsolete, rng)
    out_dir = Path(out_dir)
    write_text_atomic(out_dir / GO_OBO_FILE, obo)
    header = ("!gaf-version: 2.2\n!generated-by: SGD\n!date-generated: 2024-06-30\n"
              "!URL: https://www.yeastgenome.org\n"
              "!Synthetic annotations written by geneint.data.synthetic\n")
    text = header + "".join(f"{row}\n" for row in rows)
    with atomic_output(out_dir / GAF_FILE) as tmp, open(tmp, "wb") as raw, gzip.GzipFile(
            filename="sgd.gaf", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return {"obo": obo_stats, "gaf": gaf_stats, "term_budget": term_budget(len(genes))}
