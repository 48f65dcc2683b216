"""Gene–gene network sources: the canonical network table, the BioGRID TAB3, YEASTRACT and
TFLink readers on hand-written fixtures, and the synthetic files in those formats."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geneint.data.biogrid import TAB3_COLUMNS, read_biogrid_tab3
from geneint.data.files import HO_MARKER, InputFormatError, QCReport
from geneint.data.networks import (
    NETWORK_COLUMNS,
    finish_edges,
    map_gene_names,
    read_network_table,
    standard_name_map,
    validate_network_table,
    write_network_table,
)
from geneint.data.regulation import read_regulation
from geneint.data.synthetic import ScaleSpec, draw_factors, make_genes, synthesize
from geneint.data.synthetic.networks import (
    BIOGRID_FILE,
    REGULATION_FILE,
    TFLINK_FILE,
    write_synthetic_networks,
)
from geneint.data.tflink import TFLINK_COLUMNS, read_tflink

SGD_NAMES = {"ABF1": "YKL112W", "ACT1": "YFL039C", "GCN4": "YEL009C", "RAP1": "YNL216W"}
UNIVERSE = {"YKL112W", "YFL039C", "YEL009C", "YNL216W", "YAL001C", "YAL002W", "YBR001C"}


# --------------------------------------------------------------------------------------------
# canonical table
# --------------------------------------------------------------------------------------------


def test_finish_edges_drops_self_loops_sorts_undirected_pairs_and_keeps_the_max_weight():
    qc = QCReport("x")
    raw = pd.DataFrame({"gene_a": ["YB", "YA", "YA", "YC"], "gene_b": ["YA", "YB", "YA", "YA"],
                        "weight": [0.5, 0.9, 1.0, 0.2]})
    out = finish_edges(raw, "physical", directed=False, qc=qc)
    assert out.columns.tolist() == NETWORK_COLUMNS
    assert out[["gene_a", "gene_b"]].values.tolist() == [["YA", "YB"], ["YA", "YC"]]
    assert out["weight"].tolist() == pytest.approx([0.9, 0.2])
    assert out["weight"].dtype == np.float32 and out["directed"].dtype == bool
    assert qc.counts == {"self_loops": 1, "duplicate_edges_merged": 1, "edges_physical": 2}
    directed = finish_edges(raw, "regulatory", directed=True, qc=QCReport("x"))
    assert directed[["gene_a", "gene_b"]].values.tolist() == [["YA", "YB"], ["YB", "YA"],
                                                              ["YC", "YA"]]


def _table(**changes) -> pd.DataFrame:
    frame = pd.DataFrame({"gene_a": ["YA", "YB"], "gene_b": ["YB", "YA"],
                          "network": ["genetic", "tflink"], "weight": [1.0, 0.5],
                          "directed": [False, True]})
    for column, (row, value) in changes.items():
        frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize("changes, problem", [
    ({"gene_b": (1, "YB")}, "self loop"),
    ({"gene_a": (0, "YC")}, "gene_a < gene_b"),
    ({"weight": (1, 1.5)}, "(0, 1]"),
    ({"weight": (0, 0.0)}, "(0, 1]"),
    ({"network": (1, "TF-link")}, "lowercase"),
    ({"network": (1, "genetic"), "gene_a": (1, "YA"), "gene_b": (1, "YC")}, "mixes directed"),
])
def test_validate_network_table_names_the_file_and_the_first_offending_row(changes, problem):
    with pytest.raises(InputFormatError, match=r"net\.parquet:0: row \d") as err:
        validate_network_table(_table(**changes), "net.parquet")
    assert problem in str(err.value)


def test_validate_network_table_rejects_duplicate_rows_and_round_trips(tmp_path):
    frame = _table()
    with pytest.raises(InputFormatError, match="row 2 .*duplicate"):
        validate_network_table(pd.concat([frame, frame.iloc[:1]], ignore_index=True), "t")
    write_network_table(frame, tmp_path / "n.parquet")
    back = read_network_table(tmp_path / "n.parquet")
    assert back[["gene_a", "gene_b", "network"]].values.tolist() == [
        ["YA", "YB", "genetic"], ["YB", "YA", "tflink"]]
    assert back["weight"].dtype == np.float32 and back["directed"].tolist() == [False, True]


def test_map_gene_names_is_case_insensitive_and_reports_unmapped_names():
    sgd = pd.DataFrame({"gene": ["YKL112W", "YAL001C"], "standard_name": ["ABF1", ""],
                        "qualifier": ["Verified", "Verified"]})
    names = standard_name_map(sgd)
    assert names == {"ABF1": "YKL112W"}
    got = map_gene_names(["Abf1", "Abf1p", "YAL001c", "Nope1"], names, protein_suffix=True)
    assert got.tolist() == ["YKL112W", "YKL112W", "YAL001C", None]
    assert map_gene_names(["Abf1p"], names).tolist() == [None]


# --------------------------------------------------------------------------------------------
# BioGRID TAB3
# --------------------------------------------------------------------------------------------


def _tab3_row(a: str, b: str, system: str = "Two-hybrid", kind: str = "physical",
              org_a: int = 559292, org_b: int = 559292) -> str:
    fields = ["-"] * len(TAB3_COLUMNS)
    values = {"#BioGRID Interaction ID": "1", "Systematic Name Interactor A": a,
              "Systematic Name Interactor B": b, "Experimental System": system,
              "Experimental System Type": kind, "Organism ID Interactor A": str(org_a),
              "Organism ID Interactor B": str(org_b), "Source Database": "BIOGRID"}
    for column, value in values.items():
        fields[TAB3_COLUMNS.index(column)] = value
    return "\t".join(fields)


TAB3_ROWS = [
    _tab3_row("YKL112W", "YFL039C"),                                        # physical
    _tab3_row("YFL039C", "YKL112W", "Affinity Capture-MS"),                  # same pair
    _tab3_row("YAL001C", "YAL002W", "Negative Genetic", "genetic"),
    _tab3_row("YAL002W", "YAL001C", "Synthetic Lethality", "genetic"),       # same pair
    _tab3_row("YKL112W", "YAL001C", "Negative Genetic", "genetic"),
    _tab3_row("YKL112W", "-", org_b=9606),                                  # non-yeast
    _tab3_row("YKL112W", "-"),                                              # no ORF
    _tab3_row("YKL112W", "snR17a"),                                         # not an ORF
    _tab3_row("YKL112W", "YPR999W"),                                        # unknown gene
    _tab3_row("YEL009C", "YEL009C", "Reconstituted Complex"),                # self loop
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_biogrid_reader_splits_physical_and_genetic_and_counts_every_filter(tmp_path):
    path = _write(tmp_path / "b.tab3.txt", ["\t".join(TAB3_COLUMNS), *TAB3_ROWS])
    qc = QCReport(path)
    out = read_biogrid_tab3(path, UNIVERSE, qc)
    assert out.values.tolist() == [
        ["YAL001C", "YAL002W", "genetic", 1.0, False],
        ["YAL001C", "YKL112W", "genetic", 1.0, False],
        ["YFL039C", "YKL112W", "physical", 1.0, False],
    ]
    assert dict(qc.counts) == {
        "rows_read": 10, "rows_physical": 7, "rows_genetic": 3, "rows_non_yeast": 1,
        "rows_without_systematic_orf": 2, "genes_outside_universe": 1, "self_loops": 1,
        "duplicate_edges_merged": 2, "edges_physical": 1, "edges_genetic": 2}
    assert qc.info["experimental_systems"]["Negative Genetic"] == 2
    assert read_biogrid_tab3(path, None, QCReport(path))["gene_b"].tolist()[-1] == "YPR999W"


def test_biogrid_reader_accepts_gzip(tmp_path):
    path = tmp_path / "b.tab3.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\t".join(TAB3_COLUMNS) + "\n" + TAB3_ROWS[0] + "\n")
    assert len(read_biogrid_tab3(path, None)) == 1


@pytest.mark.parametrize("lines, line, problem", [
    (["\t".join(TAB3_COLUMNS[:24]), TAB3_ROWS[0]], 1, "not a BioGRID TAB3 header"),
    (["\t".join(TAB3_COLUMNS), TAB3_ROWS[0], TAB3_ROWS[1] + "\textra"], 3, "found 38"),
    (["\t".join(TAB3_COLUMNS), TAB3_ROWS[0], _tab3_row("YA", "YB", kind="chemical")], 3,
     "unknown Experimental System Type 'chemical'"),
    (["\t".join(TAB3_COLUMNS), _tab3_row("YKL112W", "YFL039C").replace("559292", "x", 1)], 2,
     "organism id 'x'"),
])
def test_biogrid_reader_reports_malformed_lines(tmp_path, lines, line, problem):
    path = _write(tmp_path / "bad.tab3.txt", lines)
    with pytest.raises(InputFormatError, match=rf"bad\.tab3\.txt:{line}: .*{problem}"):
        read_biogrid_tab3(path, None)


# --------------------------------------------------------------------------------------------
# YEASTRACT two-column table
# --------------------------------------------------------------------------------------------


def test_regulation_reader_maps_names_keeps_direction_and_counts_unmapped(tmp_path):
    path = tmp_path / "RegulationTwoColumnTable_Documented.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("Abf1;Act1\nAbf1p;YAL001c\nAct1;Abf1\nAbf1;Act1\nGcn4;Gcn4\n"
                 "Hap2/3/4/5;Act1\nRap1;Xyz1\nRap1;YPR999w\n\"Rap1\";\"YAL002w\"\n")
    qc = QCReport(path)
    out = read_regulation(path, UNIVERSE, SGD_NAMES, qc)
    assert out[["gene_a", "gene_b"]].values.tolist() == [
        ["YFL039C", "YKL112W"], ["YKL112W", "YAL001C"], ["YKL112W", "YFL039C"],
        ["YNL216W", "YAL002W"]]
    assert out["directed"].all() and set(out["network"]) == {"regulatory"}
    assert dict(qc.counts) == {
        "rows_read": 9, "rows_unmapped_name": 2, "genes_outside_universe": 1, "self_loops": 1,
        "duplicate_edges_merged": 1, "edges_regulatory": 4}
    assert qc.examples["rows_unmapped_name"] == ["Hap2/3/4/5", "Xyz1"]
    assert qc.info["transcription_factors"] == 3
    # without SGD names only ORF-named genes map; nothing disappears uncounted
    qc = QCReport(path)
    assert read_regulation(path, None, None, qc).empty
    assert qc.counts["rows_unmapped_name"] == 9


@pytest.mark.parametrize("text, line", [("Abf1;Act1\nAbf1;Act1;x\n", 2),
                                        ("Abf1;Act1\n\nAbf1;YAL001c\n", 2),
                                        ("TF\tTarget\n", 1), ("Abf1;\n", 1)])
def test_regulation_reader_reports_malformed_lines(tmp_path, text, line):
    path = tmp_path / "reg.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFormatError, match=rf"reg\.tsv:{line}: expected '<transcription"):
        read_regulation(path, None, SGD_NAMES)


# --------------------------------------------------------------------------------------------
# TFLink
# --------------------------------------------------------------------------------------------


def _tflink_row(tf: str, target: str, organism: str = "Saccharomyces cerevisiae",
                small: str = "No") -> str:
    return "\t".join(["P1", "P2", "1", "2", tf, target, "ChIP-seq", "123",
                      organism, "YEASTRACT", small, "-", "-", "-", "-"])


def test_tflink_reader_maps_names_keeps_direction_and_counts_filters(tmp_path):
    path = _write(tmp_path / "tflink.tsv", [
        "\t".join(TFLINK_COLUMNS), _tflink_row("GCN4", "ACT1", small="Yes"),
        _tflink_row("ACT1", "GCN4"), _tflink_row("GCN4", "YAL001C"),
        _tflink_row("GCN4", "YAL001C"), _tflink_row("RAP1", "RAP1"),
        _tflink_row("NOPE1", "ACT1"), _tflink_row("GCN4", "YPR999W"),
        _tflink_row("GCN4", "ACT1", organism="Homo sapiens")])
    qc = QCReport(path)
    out = read_tflink(path, UNIVERSE, SGD_NAMES, qc)
    assert out[["gene_a", "gene_b"]].values.tolist() == [
        ["YEL009C", "YAL001C"], ["YEL009C", "YFL039C"], ["YFL039C", "YEL009C"]]
    assert out["directed"].all() and set(out["network"]) == {"tflink"}
    assert dict(qc.counts) == {
        "rows_read": 8, "rows_other_organism": 1, "rows_unmapped_name": 1,
        "genes_outside_universe": 1, "self_loops": 1, "duplicate_edges_merged": 1,
        "edges_tflink": 3}
    assert qc.info["small_scale_rows"] == 1


@pytest.mark.parametrize("lines, line, problem", [
    (["\t".join(TFLINK_COLUMNS[:11]), _tflink_row("GCN4", "ACT1")], 1, "not a TFLink"),
    (["\t".join(TFLINK_COLUMNS), _tflink_row("GCN4", "ACT1") + "\tx"], 2, "found 16"),
    (["\t".join(TFLINK_COLUMNS), _tflink_row("GCN4", "-")], 2, "empty Name"),
    (["\t".join(TFLINK_COLUMNS), _tflink_row("GCN4", "ACT1", small="maybe")], 2,
     "Small-scale.evidence"),
])
def test_tflink_reader_reports_malformed_lines(tmp_path, lines, line, problem):
    path = _write(tmp_path / "tfl.tsv", lines)
    with pytest.raises(InputFormatError, match=rf"tfl\.tsv:{line}: .*{problem}"):
        read_tflink(path, None, SGD_NAMES)


# --------------------------------------------------------------------------------------------
# synthetic files
# --------------------------------------------------------------------------------------------


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    rng = np.random.default_rng(0)
    genes = make_genes(600, rng)
    factors = draw_factors(600, rng, n_modules=12)
    out = tmp_path_factory.mktemp("networks_demo")
    return out, genes, factors, write_synthetic_networks(out, genes, factors, seed=0)


def test_synthetic_networks_are_byte_identical_for_a_seed(demo, tmp_path):
    out, genes, factors, stats = demo
    again = write_synthetic_networks(tmp_path, genes, factors, seed=0)
    assert _digests(tmp_path) == _digests(out) and again == stats
    assert sorted(_digests(out)) == sorted([BIOGRID_FILE, REGULATION_FILE, TFLINK_FILE])
    other = write_synthetic_networks(tmp_path / "s1", genes, factors, seed=1)
    assert _digests(tmp_path / "s1") != _digests(out) and other != stats


def test_readers_read_the_synthetic_files_with_the_planted_qc_counts(demo):
    out, genes, factors, stats = demo
    universe = {*genes.names.tolist(), HO_MARKER}
    sgd = {s: g for s, g in zip(genes.standard_names, genes.names, strict=True) if s}
    index = {g: i for i, g in enumerate(genes.names.tolist())}
    cosine = {}
    for source, read, args in (("biogrid", read_biogrid_tab3, ()),
                               ("regulation", read_regulation, (sgd,)),
                               ("tflink", read_tflink, (sgd,))):
        qc = QCReport(source)
        edges = read(out / stats["files"][source], universe, *args, qc=qc)
        validate_network_table(edges, source)
        assert dict(qc.counts) == stats[source]["qc"]
        for network, part in edges.groupby("network"):
            a = part["gene_a"].map(index).to_numpy()
            b = part["gene_b"].map(index).to_numpy()
            cosine[network] = float(np.einsum("ij,ij->i", factors.unit[a],
                                              factors.unit[b]).mean())
            assert part["directed"].all() == (network in ("regulatory", "tflink"))
    for source in ("biogrid", "regulation", "tflink"):
        assert all(v > 0 for v in stats[source]["qc"].values())  # every imperfection planted
    assert cosine["physical"] > 0.5 and abs(cosine["tflink"]) < 0.15
    assert cosine["physical"] > cosine["genetic"] > cosine["regulatory"] > cosine["tflink"]
    assert stats["signal"]["mean_cosine_physical"] == pytest.approx(cosine["physical"], abs=1e-3)


def test_writing_the_networks_leaves_the_other_synthetic_files_unchanged(tmp_path):
    spec = ScaleSpec(n_genes=150, n_double_queries=10, n_single_queries=4, n_array_strains=50,
                     arrays_per_query=40, n_modules=4)
    synthesize(tmp_path, seed=3, scale=spec)
    before = _digests(tmp_path)
    rng = np.random.default_rng(3)  # the draws synthesize makes first
    genes = make_genes(spec.n_genes, rng)
    factors = draw_factors(spec.n_genes, rng, n_factors=spec.n_factors,
                           n_modules=spec.n_modules)
    write_synthetic_networks(tmp_path, genes, factors, seed=3)
    after = _digests(tmp_path)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) <= {BIOGRID_FILE, REGULATION_FILE, TFLINK_FILE}
