"""DCell's ontology: GO OBO/GAF readers, the filter stages, the DCell topology reader, the
synthetic GO (it must carry the planted module signal) and `geneint parse ontology`.

The hand-made GO below is small enough that every stage's count is worked out by hand in
:data:`STAGES`; the real slices (goslim_yeast.obo, the DNA-repair topology) are skipped when
../shared/data is absent.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geneint.cli import main
from geneint.data.files import InputFormatError, QCReport
from geneint.data.go_annotations import read_gaf, read_obo
from geneint.data.ontology import Ontology, read_dcell_topology, read_ontology, write_ontology
from geneint.data.ontology_filters import build_go_ontology, filter_ontology
from geneint.data.synthetic import make_genes, synthesize
from geneint.data.synthetic.genes import draw_factors
from geneint.data.synthetic.ontology import write_synthetic_go

BP = ("biological_process",)
G = {i: orf for i, orf in enumerate(
    ["YAL001C", "YAL002W", "YAL003W", "YAL004W", "YAL005C", "YAL007C", "YAL008W", "YAL009W",
     "YAL010C", "YAL011W", "YAL012W", "YAL013W", "YAL014C", "YAL015C"], start=1)}
UNIVERSE = [g for i, g in G.items() if i != 12]  # g12 is annotated but outside the universe

R, A, B, C, D, E, F = "GO:0008150", "GO:0000001", "GO:0000002", "GO:0000003", "GO:0000004", \
    "GO:0000005", "GO:0000006"
GG, S, T, OBSOLETE, MF, M = "GO:0000007", "GO:0000008", "GO:0000011", "GO:0000009", \
    "GO:0003674", "GO:0000010"

OBO = f"""format-version: 1.2
data-version: releases/2024-06-17
ontology: go

[Term]
id: {R}
name: biological_process
namespace: biological_process

[Term]
id: {A}
name: a
namespace: biological_process
is_a: {R} ! biological_process

[Term]
id: {B}
name: b
namespace: biological_process
is_a: {R} ! biological_process

[Term]
id: {C}
name: c (same genes as b)
namespace: biological_process
is_a: {A} ! a
relationship: part_of {B} ! b

[Term]
id: {D}
name: d
namespace: biological_process
is_a: {A} ! a
relationship: regulates {B} ! b

[Term]
id: {E}
name: e
namespace: biological_process
is_a: {C} ! c

[Term]
id: {F}
name: f
namespace: biological_process
is_a: {C} ! c

[Term]
id: {GG}
name: g (same genes as d)
namespace: biological_process
is_a: {D} ! d

[Term]
id: {S}
name: s (2 genes)
namespace: biological_process
is_a: {A} ! a

[Term]
id: {T}
name: t (IGI only)
namespace: biological_process
is_a: {D} ! d

[Term]
id: {OBSOLETE}
name: obsolete o
namespace: biological_process
is_obsolete: true

[Term]
id: {MF}
name: molecular_function
namespace: molecular_function

[Term]
id: {M}
name: m
namespace: molecular_function
is_a: {MF} ! molecular_function
relationship: part_of {C} ! c

[Typedef]
id: part_of
name: part of
"""

#: (term, gene number, evidence, date[, qualifier]); aspect P unless the term is MF's.
ANNOTATIONS = [
    (E, 1, "IDA", 20100101), (E, 2, "IDA", 20100101), (E, 3, "IMP", 20100101),
    (E, 4, "IDA", 20190505),  # the only row after 2015
    (F, 5, "IDA", 20100101), (F, 6, "IDA", 20100101), (F, 7, "IMP", 20100101),
    (F, 8, "IGI", 20100101), (F, 8, "IDA", 20100101),  # g8 survives the IGI filter
    (F, 12, "IDA", 20100101),  # outside the universe
    (C, 9, "IDA", 20100101),
    (GG, 10, "IDA", 20100101), (GG, 11, "IDA", 20100101), (GG, 13, "IDA", 20100101),
    (GG, 1, "IDA", 20100101),
    (S, 1, "IDA", 20100101), (S, 2, "IDA", 20100101),
    (T, 5, "IGI", 20100101),  # IGI only
    (R, 14, "IDA", 20100101),
    (D, 7, "IMP", 20100101, "NOT|involved_in"),  # NOT: dropped
    (OBSOLETE, 1, "IDA", 20100101),  # obsolete term
    (M, 1, "IDA", 20100101),  # molecular_function
]
REAL_ROW = ("SGD\tS000003381\tGPC1\tacts_upstream_of_or_within\tGO:0090640\tPMID:30514764\tIGI\t"
            "SGD:S000005701\tP\tGlycerophosphocholine acyltransferase (GPCAT)\tYGR149W|"
            "glycerophosphocholine acyltransferase\tprotein\ttaxon:559292\t20181220\tSGD\t\t"
            "UniProtKB:P48236")
HEADER = "!gaf-version: 2.2\n!generated-by: SGD\n!date-generated: 2024-06-30\n"

#: Stages of the hand-made GO with namespaces [biological_process] and the default filters.
STAGES = [("raw", 10, 10, 18, 14), ("evidence", 10, 10, 17, 14), ("universe", 10, 10, 16, 13),
          ("redundant", 8, 9, 17, 13), ("min_genes", 6, 7, 17, 13)]


def gaf_row(term: str, gene: int, evidence: str, date: int, qualifier: str = "involved_in",
            symbol: str | None = None, synonyms: str | None = None) -> str:
    orf = G.get(gene, "")
    aspect = "F" if term == M else "P"
    return "\t".join(["SGD", f"S{gene:09d}", symbol or f"ABC{gene}", qualifier, term,
                      "PMID:1", evidence, "", aspect, "protein", synonyms or f"{orf}|abc{gene}",
                      "protein", "taxon:559292", str(date), "SGD", "", ""])


@pytest.fixture
def go_files(tmp_path: Path) -> tuple[Path, Path]:
    obo = tmp_path / "go-basic.obo"
    obo.write_text(OBO)
    rows = [gaf_row(*a) for a in ANNOTATIONS]
    rows.append(gaf_row(E, 0, "IDA", 20100101, symbol="tA(UGC)A", synonyms="tA(UGC)A|tRNA"))
    gaf = tmp_path / "sgd.gaf.gz"
    gaf.write_bytes(gzip.compress((HEADER + "\n".join(rows) + "\n").encode()))
    return obo, gaf


def test_the_filter_stages_of_a_hand_made_go(go_files):
    qc = QCReport(list(go_files))
    ontology = build_go_ontology(*go_files, UNIVERSE, namespaces=BP, qc=qc)
    assert [tuple(s.values()) for s in qc.info["stages"]] == STAGES
    counts = qc.counts
    assert counts["gaf_not_qualifier_rows"] == 1 and counts["gaf_rows_without_orf"] == 1
    assert counts["annotation_rows_unknown_or_obsolete_term"] == 1
    assert counts["annotation_rows_namespace_not_selected"] == 1
    assert counts["annotation_rows_evidence_dropped"] == 2
    assert counts["annotations_outside_universe"] == 1 and counts["genes_outside_universe"] == 1
    assert counts["obo_obsolete_terms"] == 1 and counts["obo_edges_relation_not_selected"] == 1
    assert counts["obo_edges_cross_namespace_dropped"] == 1
    assert counts["terms_removed_redundant"] == 2 and counts["terms_removed_min_genes"] == 2
    assert counts["edges_reconnected"] == 4
    assert ontology.root == R and set(ontology.terms) == {R, A, B, D, E, F}
    # C (= B) removed: its children hang from both of its parents, its gene moved up to both.
    assert ontology.children[A] == (D, E, F) and ontology.children[B] == (E, F)
    assert G[9] in ontology.genes[A] and ontology.genes[B] == (G[9],)
    # G (= D) removed: D has its genes; S (2 genes) removed: its genes moved up to A.
    assert set(ontology.genes[D]) == {G[1], G[10], G[11], G[13]}
    assert set(ontology.genes[A]) == {G[1], G[2], G[9]}
    assert ontology.genes[R] == (G[14],) and G[12] not in ontology.all_genes
    assert ontology.counts()["annotations"] == STAGES[-1][3]


def test_removing_terms_keeps_every_surviving_gene_set(go_files):
    unfiltered = build_go_ontology(*go_files, UNIVERSE, namespaces=BP, min_genes=1)
    filtered = build_go_ontology(*go_files, UNIVERSE, namespaces=BP, min_genes=4)
    for term in filtered.terms:
        assert filtered.gene_sets[term] == unfiltered.gene_sets[term], term


def test_the_date_cut_off_and_keeping_igi(go_files):
    qc = QCReport("go")
    ontology = build_go_ontology(*go_files, UNIVERSE, namespaces=BP, annotation_date_max=20150101,
                                 qc=qc)
    stages = {s["stage"]: s for s in qc.info["stages"]}
    assert stages["date"]["annotations"] == 17 and qc.counts["annotation_rows_after_date_max"] == 1
    assert G[4] not in ontology.all_genes and E not in ontology.terms  # E kept 3 genes
    kept = build_go_ontology(*go_files, UNIVERSE, namespaces=BP, drop_evidence=[], min_genes=1)
    assert G[5] in kept.gene_sets[T]


def test_several_namespaces_get_a_common_root(go_files):
    ontology = build_go_ontology(*go_files, UNIVERSE, min_genes=1)
    assert ontology.root == "ROOT" and set(ontology.children["ROOT"]) == {R, MF}


def test_an_empty_ontology_is_a_clear_error(go_files):
    with pytest.raises(ValueError, match="min_genes = 50 .* would be empty"):
        build_go_ontology(*go_files, UNIVERSE, namespaces=BP, min_genes=50)


def test_ontology_json_round_trips(go_files, tmp_path):
    ontology = build_go_ontology(*go_files, UNIVERSE, min_genes=1)
    write_ontology(ontology, tmp_path / "ontology.json")
    assert read_ontology(tmp_path / "ontology.json") == ontology


# --- GAF and OBO readers ---------------------------------------------------------------------


def test_gaf_rows_in_the_published_format(tmp_path):
    path = tmp_path / "a.gaf"
    alias_first = gaf_row(E, 2, "IDA", 20100101, synonyms="abc2|YAL002W")
    symbol_only = gaf_row(E, 3, "IDA", 20100101, symbol="YAL003W", synonyms="abc3")
    path.write_text(HEADER + "\n".join([REAL_ROW, alias_first, symbol_only]) + "\n")
    frame = read_gaf(path)
    assert frame.to_dict("records")[0] == {"gene": "YGR149W", "term": "GO:0090640",
                                           "evidence": "IGI", "date": 20181220, "aspect": "P"}
    assert list(frame["gene"]) == ["YGR149W", "YAL002W", "YAL003W"]


def test_gaf_no_orf_rows_are_counted_not_silently_dropped(tmp_path):
    path = tmp_path / "a.gaf"
    path.write_text(HEADER + gaf_row(E, 0, "IDA", 20100101, symbol="SNR17A",
                                     synonyms="SNR17A|snoRNA") + "\n" + REAL_ROW + "\n")
    qc = QCReport(path)
    assert len(read_gaf(path, qc)) == 1
    assert qc.counts["gaf_rows_without_orf"] == 1
    assert "SNR17A" in qc.examples["gaf_rows_without_orf"][0]


@pytest.mark.parametrize("row, line, problem", [
    (REAL_ROW.rsplit("\t", 1)[0], 5, "16 tab-separated columns"),
    (REAL_ROW.replace("20181220", "2018-12-20"), 5, "not YYYYMMDD"),
    (REAL_ROW.replace("\tP\t", "\tX\t"), 5, "aspect"),
])
def test_malformed_gaf_rows_name_path_and_line(tmp_path, row, line, problem):
    path = tmp_path / "bad.gaf.gz"
    path.write_bytes(gzip.compress((HEADER + REAL_ROW + "\n" + row + "\n").encode()))
    with pytest.raises(InputFormatError, match=problem) as err:
        read_gaf(path)
    assert str(err.value).startswith(f"{path}:{line}:")


def test_a_file_without_gaf_header_is_refused(tmp_path):
    path = tmp_path / "x.gaf"
    path.write_text(REAL_ROW + "\n")
    with pytest.raises(InputFormatError, match=r"x.gaf:1: no '!gaf-version"):
        read_gaf(path)


def test_obo_syntax_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.obo"
    bad.write_text(OBO.replace(f"is_a: {R} ! biological_process\n", "no colon here\n", 1))
    with pytest.raises(InputFormatError, match=r"bad.obo:14: not OBO syntax"):
        read_obo(bad)
    bad.write_text(OBO.replace(f"relationship: part_of {B} ! b", "relationship: part_of"))
    with pytest.raises(InputFormatError, match=r"bad.obo:\d+: relationship: needs"):
        read_obo(bad)
    gaf = tmp_path / "not.obo"
    gaf.write_text(HEADER + REAL_ROW + "\n")
    with pytest.raises(InputFormatError, match="not an OBO file"):
        read_obo(gaf)


@pytest.mark.realdata
def test_the_real_yeast_go_slim(shared_data):
    path = shared_data / "go" / "goslim_yeast.obo"
    qc = QCReport(path)
    terms = read_obo(path, qc=qc)
    assert len(terms.children) == 120 and "obo_obsolete_terms" not in qc.counts
    assert Counter(terms.namespace.values()) == {"biological_process": 67,
                                                 "molecular_function": 32,
                                                 "cellular_component": 21}
    edges = sum(len(k) for k in terms.children.values())
    # 116 is_a + 41 part_of lines: kept, duplicates (is_a and part_of to one parent) or to
    # terms outside the slim; has_part 19 + occurs_in 3 + regulates 1 are not selected.
    assert edges + qc.counts["obo_duplicate_edges"] + \
        qc.counts["obo_edges_to_unknown_or_obsolete_terms"] == 116 + 41
    assert qc.counts["obo_edges_relation_not_selected"] == 23
    assert terms.names["GO:0006281"] == "DNA repair"
    bp = read_obo(path, ["biological_process"])
    assert len(bp.children) == 67 and "GO:0008150" in bp.children


# --- DCell topology --------------------------------------------------------------------------


@pytest.mark.realdata
def test_the_dna_repair_topology(shared_data):
    ontology = read_dcell_topology(shared_data / "costanzo2016_dna_repair" / "GO_0006281_topology")
    assert (ontology.root, len(ontology), len(ontology.all_genes)) == ("GO:0006281", 21, 162)
    qc = QCReport("topology")
    assert filter_ontology(ontology, ontology.all_genes, 4, qc) == ontology
    universe = sorted(ontology.all_genes)[:120]
    smaller = filter_ontology(ontology, universe, 4, QCReport("topology"))
    assert smaller.all_genes == ontology.all_genes & set(universe)
    assert all(len(smaller.gene_sets[t]) >= 4 for t in smaller.terms)


@pytest.mark.parametrize("text, line, problem", [
    ("ROOT: GO:1 2\nTERMS: \n", 2, "expected a GENES: line"),
    ("ROOT: GO:1 3\nGENES: YAL001C YAL002W\nTERMS: \n", 1, "declares 3 genes but has 2"),
    ("ROOT: GO:1\nGENES: YAL001C\nTERMS: \n", 1, "needs a term id and a gene count"),
])
def test_malformed_topologies_name_path_and_line(tmp_path, text, line, problem):
    path = tmp_path / "topology"
    path.write_text(text)
    with pytest.raises(InputFormatError, match=problem) as err:
        read_dcell_topology(path)
    assert str(err.value).startswith(f"{path}:{line}:")


# --- synthetic GO ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synthetic_go_demo")
    return out, synthesize(out, seed=0, scale="demo")


def _go_bytes(out: Path, seed: int) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(seed)
    genes = make_genes(200, rng)
    write_synthetic_go(out, genes, draw_factors(200, rng, n_modules=5), seed)
    return (out / "go/go-basic.obo").read_bytes(), (out / "go/sgd.gaf.gz").read_bytes()


def test_the_synthetic_go_is_deterministic_by_seed(tmp_path):
    first = _go_bytes(tmp_path / "a", 0)
    assert first == _go_bytes(tmp_path / "b", 0)
    assert first[0] != _go_bytes(tmp_path / "c", 1)[0]
    assert first[0].startswith(b"format-version: 1.2\ndata-version: releases/")
    assert b"is_obsolete: true" in first[0] and b"[Typedef]\nid: part_of" in first[0]
    assert gzip.decompress(first[1]).startswith(b"!gaf-version: 2.2\n")


def test_the_go_stream_leaves_the_other_synthetic_files_unchanged(demo, tmp_path, monkeypatch):
    import geneint.data.synthetic.writer as writer

    stats = {"obo": {"terms": 0, "obsolete_terms": 0}, "gaf": {"rows": 0}}
    monkeypatch.setattr(writer, "write_synthetic_go", lambda *args: stats)  # draws nothing
    synthesize(tmp_path, seed=0, scale="demo")
    out, manifest = demo
    for key, rel in json.loads((tmp_path / "manifest.json").read_text())["files"].items():
        if key not in ("go_obo", "sgd_gaf"):
            assert (tmp_path / rel).read_bytes() == (out / rel).read_bytes(), key
    assert manifest["files"]["go_obo"] == str(out / "go/go-basic.obo")


@pytest.fixture(scope="module")
def demo_ontology(demo) -> tuple[Ontology, QCReport, pd.DataFrame]:
    out, manifest = demo
    factors = pd.read_csv(manifest["files"]["truth_factors"], sep="\t")
    qc = QCReport("demo")
    universe = [*factors["gene"], "YDL227C"]
    return build_go_ontology(manifest["files"]["go_obo"], manifest["files"]["sgd_gaf"],
                             universe, qc=qc), qc, factors


def test_the_demo_go_parses_to_a_demo_sized_ontology(demo_ontology):
    ontology, qc, factors = demo_ontology
    stages = {s["stage"]: s for s in qc.info["stages"]}
    assert stages["raw"]["terms"] >= 150 and 50 <= len(ontology) <= 150
    assert stages["evidence"]["annotations"] < stages["raw"]["annotations"]  # IGI
    assert stages["redundant"]["terms"] < stages["universe"]["terms"]
    for key in ("gaf_not_qualifier_rows", "gaf_rows_without_orf", "obo_obsolete_terms",
                "obo_edges_relation_not_selected", "annotation_rows_unknown_or_obsolete_term"):
        assert qc.counts[key] > 0, key
    unstructured = set(factors.loc[factors["module"] < 0, "gene"])
    assert 0 < len(unstructured - ontology.all_genes) < len(unstructured)


def test_the_demo_go_terms_gather_genes_of_one_module(demo_ontology):
    ontology, _, factors = demo_ontology
    rng = np.random.default_rng(0)
    module = dict(zip(factors["gene"], factors["module"], strict=True))
    shuffled = dict(zip(factors["gene"], rng.permutation(factors["module"]), strict=True))

    def purity(labels: dict[str, int]) -> float:
        shares = [Counter(labels[g] for g in genes).most_common(1)[0][1] / len(genes)
                  for genes in ontology.gene_sets.values() if 4 <= len(genes) <= 100]
        return float(np.median(shares))

    assert purity(module) > 0.7 and purity(shuffled) < 0.4


# --- CLI -------------------------------------------------------------------------------------


def test_geneint_parse_ontology_end_to_end(demo, tmp_path):
    out, manifest = demo
    genes = tmp_path / "genes.tsv"
    factors = pd.read_csv(manifest["files"]["truth_factors"], sep="\t")
    genes.write_text("gene\n" + "".join(f"{g}\n" for g in sorted(factors["gene"])))
    target = tmp_path / "ontology.json"
    assert main(["parse", "ontology", "--obo", manifest["files"]["go_obo"], "--gaf",
                 manifest["files"]["sgd_gaf"], "--genes", str(genes), "--out", str(target),
                 "--min-genes", "5", "--annotation-date-max", "null"]) == 0
    ontology = read_ontology(target)
    qc = json.loads((tmp_path / "ontology.json.qc.json").read_text())
    assert qc["info"]["stages"][-1]["terms"] + 1 == len(ontology)  # + ROOT
    assert qc["info"]["min_genes"] == 5
    assert min(len(g) for g in ontology.gene_sets.values()) >= 5
    bad = tmp_path / "bad.gaf"
    bad.write_text(HEADER + "SGD\tS1\n")
    assert main(["parse", "ontology", "--obo", manifest["files"]["go_obo"], "--gaf", str(bad),
                 "--genes", str(genes), "--out", str(tmp_path / "x.json")]) == 1


@pytest.mark.realdata
def test_geneint_parse_ontology_from_a_topology(shared_data, tmp_path):
    topology = shared_data / "costanzo2016_dna_repair" / "GO_0006281_topology"
    genes = tmp_path / "genes.tsv"
    genes.write_text("gene\n" + "".join(
        f"{g}\n" for g in sorted(read_dcell_topology(topology).all_genes)))
    assert main(["parse", "ontology", "--topology", str(topology), "--genes", str(genes),
                 "--out", str(tmp_path / "o.json")]) == 0
    assert len(read_ontology(tmp_path / "o.json")) == 21
