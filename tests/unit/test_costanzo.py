"""Costanzo 2016 SGA pair-wise files and the DCell training-file format.

The SGA fixture starts with the real row quoted in docs/reference/data_sources.md; the DCell
real-slice tests read ../shared/data/costanzo2016_dna_repair (skipped when absent).
"""

from __future__ import annotations

import contextlib
import csv
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geneint.data.canonical import gene_set_frame
from geneint.data.costanzo import (
    COSTANZO_SGA_COLUMNS,
    read_costanzo_sga,
    read_dcell_pairs,
    sorted_pair_frame,
    write_costanzo_sga,
)
from geneint.data.files import ORF_PATTERN, InputFormatError, QCReport, is_orf

HEADER = "\t".join(COSTANZO_SGA_COLUMNS)

ROWS = [
    # line 2: the real row
    "YAL001C_tsq508\ttfc3-g349e\tYBL023C_tsa111\tmcm2-1\tTSA30\t-0.0348\t0.005042\t0.8285\t0.9254\t0.7319\t0.0102",
    "YAL001C_tsq508\ttfc3-g349e\tYAL048C_dma5203\tgem1Δ\tDMA30\t0.0215\t0.312\t0.8285\t0.9\t0.77\t0.02",
    # line 4: the same pair as line 2, other orientation (kept: readers do not deduplicate)
    "YBL023C_tsq111\tmcm2-1\tYAL001C_tsa1\ttfc3-1\tTSA26\t-0.051\t0.0009\t0.92\t0.81\t0.70\t0.03",
    # line 5: query and array of the same gene -> not a pair
    "YAL001C_tsq508\ttfc3-g349e\tYAL001C_damp1\ttfc3-damp\tDMA30\t-0.4\t1E-04\t0.8285\t0.7\t0.2\t0.05",
    "YML107C_sn2550\tpml39Δ\tYBR001C_dma100\tnth2Δ\tDMA26\t0.0\t1\t1.0\t\t1.0\t",
]

EXPECTED = [
    ("YAL001C", "YBL023C", -0.0348, 0.005042),
    ("YAL001C", "YAL048C", 0.0215, 0.312),
    ("YAL001C", "YBL023C", -0.051, 0.0009),
    ("YBR001C", "YML107C", 0.0, 1.0),
]


def write_lines(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode("utf-8"))
    return path


def expected_frame(rows: list[tuple[str, str, float, float]], source: str) -> pd.DataFrame:
    frame = gene_set_frame([[a, b] for a, b, _, _ in rows])
    frame["tau"] = np.array([r[2] for r in rows], dtype=np.float64)
    frame["p_value"] = np.array([r[3] for r in rows], dtype=np.float64)
    frame["source"] = pd.Series([source] * len(rows), dtype=str)
    return frame


@contextlib.contextmanager
def raises_at(path: Path, line: int, *fragments: str) -> Iterator[pytest.ExceptionInfo]:
    """Expect an InputFormatError naming ``path`` and ``line`` and containing ``fragments``."""
    with pytest.raises(InputFormatError) as info:
        yield info
    message = str(info.value)
    assert str(path) in message
    assert info.value.line == line, message
    assert f":{line}:" in message
    for fragment in fragments:
        assert fragment in message, message


def _replace_field(row: str, index: int, value: str) -> str:
    fields = row.split("\t")
    fields[index] = value
    return "\t".join(fields)


# ---------------------------------------------------------------------------------------------
# SGA_*.txt
# ---------------------------------------------------------------------------------------------


def test_read_costanzo_sga_canonical_output(tmp_path):
    path = write_lines(tmp_path / "SGA_NxN.txt", ROWS)
    qc = QCReport(path)
    frame = read_costanzo_sga(path, qc=qc)
    pd.testing.assert_frame_equal(frame, expected_frame(EXPECTED, "costanzo2016"))
    assert dict(qc.counts) == {"rows_read": 5, "rows_kept": 4, "rows_same_gene": 1}
    assert qc.examples["rows_same_gene"] == ["line 5: YAL001C_tsq508 x YAL001C_damp1"]


def test_read_costanzo_sga_small_blocks_same_result(tmp_path, monkeypatch):
    # Many rows across several blocks: same result as one block, line numbers still right.
    from geneint.data import published_tsv as tabular

    rows = ROWS * 50
    path = write_lines(tmp_path / "SGA_ExE.txt", rows)
    whole = read_costanzo_sga(path)
    monkeypatch.setattr(tabular, "BLOCK_ROWS", 7)
    blocks = list(tabular.iter_tsv_blocks(path, COSTANZO_SGA_COLUMNS))
    assert [len(b) for b, _ in blocks][:2] == [7, 7]
    assert blocks[1][1].tolist() == list(range(9, 16))
    pd.testing.assert_frame_equal(read_costanzo_sga(path), whole)
    bad = list(rows)
    bad[123] = _replace_field(bad[123], 6, "NaN")
    path = write_lines(tmp_path / "bad.txt", bad)
    with raises_at(path, 125, "'P-value'"):
        read_costanzo_sga(path)


def test_read_costanzo_sga_universe(tmp_path):
    path = write_lines(tmp_path / "SGA_NxN.txt", ROWS)
    universe = {"YAL001C", "YBL023C", "YML107C", "YBR001C"}
    qc = QCReport(path)
    frame = read_costanzo_sga(path, universe=universe, qc=qc)
    pd.testing.assert_frame_equal(
        frame, expected_frame([EXPECTED[0], EXPECTED[2], EXPECTED[3]], "costanzo2016"))
    assert qc.counts["rows_gene_outside_universe"] == 1
    with raises_at(path, 3, "'YAL048C'", "universe"):
        read_costanzo_sga(path, universe=universe, unknown_genes="error")


@pytest.mark.parametrize(
    ("row", "make_bad", "fragments"),
    [
        (1, lambda r: "\t".join(r.split("\t")[:10]), ("expected 11 tab-separated fields",
                                                      "found 10")),
        (2, lambda r: _replace_field(r, 0, "NOTAGENE_tsq1"), ("unknown gene 'NOTAGENE'",
                                                              "Query Strain ID")),
        (3, lambda r: _replace_field(r, 2, "yal001c_dma1"), ("unknown gene 'yal001c'",
                                                             "Array Strain ID")),
        (0, lambda r: _replace_field(r, 5, "NaN"), ("Genetic interaction score (ε)", "'NaN'")),
        (4, lambda r: _replace_field(r, 6, ""), ("'P-value'", "blank cell")),
        (4, lambda r: _replace_field(r, 6, "-0.1"), ("outside [0, 1]",)),
    ],
)
def test_read_costanzo_sga_bad_rows(tmp_path, row, make_bad, fragments):
    rows = list(ROWS)
    rows[row] = make_bad(rows[row])
    path = write_lines(tmp_path / "bad.txt", rows)
    with raises_at(path, row + 2, *fragments):
        read_costanzo_sga(path)


def test_read_costanzo_sga_wrong_header(tmp_path):
    path = write_lines(tmp_path / "bad.txt", ROWS,
                       header=HEADER.replace("(ε)", "(epsilon)"))
    with raises_at(path, 1, "expected columns", "(epsilon)"):
        read_costanzo_sga(path)


def test_write_costanzo_sga_round_trip(tmp_path):
    original = write_lines(tmp_path / "original.txt", ROWS)
    table = pd.DataFrame([r.split("\t") for r in ROWS], columns=COSTANZO_SGA_COLUMNS)
    copy = tmp_path / "copy.txt"
    write_costanzo_sga(table, copy)
    assert copy.read_bytes() == original.read_bytes()
    numeric = table.copy()
    for col in COSTANZO_SGA_COLUMNS[5:]:
        numeric[col] = pd.to_numeric(numeric[col].replace("", np.nan))
    numeric.loc[0, "Genetic interaction score (ε)"] = 1 / 3
    write_costanzo_sga(numeric, tmp_path / "numeric.txt")
    frame = read_costanzo_sga(tmp_path / "numeric.txt")
    assert frame.loc[0, "tau"] == 1 / 3
    pd.testing.assert_frame_equal(frame.iloc[1:], read_costanzo_sga(original).iloc[1:])


def test_sorted_pair_frame_equals_gene_set_frame():
    rng = random.Random(0)
    genes = [f"Y{c}L{i:03d}W" for c in "ABCDEFGHIJKLMNOP" for i in range(20)]
    pairs = [rng.sample(genes, 2) for _ in range(500)]
    first = pd.Series([p[0] for p in pairs], dtype=str)
    second = pd.Series([p[1] for p in pairs], dtype=str)
    pd.testing.assert_frame_equal(sorted_pair_frame(first, second), gene_set_frame(pairs))
    pd.testing.assert_frame_equal(sorted_pair_frame(first.iloc[:0], second.iloc[:0]),
                                  gene_set_frame([]))


# ---------------------------------------------------------------------------------------------
# DCell training-file format
# ---------------------------------------------------------------------------------------------

DCELL_LINES = [
    "2 YLR035C YML060W 0.0447",
    "2 YER142C YHL006C 0.0094",
    "3 YAL015C YOL043C YBL007C -0.0951",
    "2 YLR035C YLR035C 0.1",  # line 4: one gene twice
    "2 YML060W YLR035C -0.02",  # same set as line 1
]


def test_read_dcell_pairs_canonical_output(tmp_path):
    path = tmp_path / "GO_x_training_data_2016_0"
    path.write_text("\n".join(DCELL_LINES) + "\n")
    qc = QCReport(path)
    frame = read_dcell_pairs(path, qc=qc)
    expected = gene_set_frame([["YLR035C", "YML060W"], ["YER142C", "YHL006C"],
                               ["YAL015C", "YOL043C", "YBL007C"], ["YML060W", "YLR035C"]])
    expected["tau"] = [0.0447, 0.0094, -0.0951, -0.02]
    expected["p_value"] = np.nan
    expected["source"] = pd.Series(["costanzo2016_dcell"] * 4, dtype=str)
    pd.testing.assert_frame_equal(frame, expected)
    assert dict(qc.counts) == {"rows_read": 5, "rows_kept": 4, "rows_same_gene": 1}
    assert qc.examples["rows_same_gene"] == ["line 4: 2 YLR035C YLR035C 0.1"]

    qc = QCReport(path)
    frame = read_dcell_pairs(path, universe={"YLR035C", "YML060W"}, qc=qc)
    assert len(frame) == 2 and qc.counts["rows_gene_outside_universe"] == 2
    with raises_at(path, 2, "'YER142C'", "universe"):
        read_dcell_pairs(path, universe={"YLR035C", "YML060W"}, unknown_genes="error")


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        ("4 YLR035C YML060W YER142C YHL006C 0.1", ("gene count",)),
        ("2 YLR035C YML060W YER142C 0.1", ("expected 4 space-separated fields", "found 5")),
        ("2 YLR035C NOTAGENE 0.1", ("unknown gene 'NOTAGENE'",)),
        ("2 YLR035C YML060W nan", ("finite number", "'nan'")),
        ("2 YLR035C YML060W", ("expected 4 space-separated fields",)),
    ],
)
def test_read_dcell_pairs_bad_lines(tmp_path, line, fragments):
    path = tmp_path / "bad"
    path.write_text("\n".join([DCELL_LINES[0], DCELL_LINES[1], line]) + "\n")
    with raises_at(path, 3, *fragments):
        read_dcell_pairs(path)


def test_read_dcell_pairs_blank_lines(tmp_path):
    path = tmp_path / "trailing"
    path.write_text("\n".join(DCELL_LINES[:2]) + "\n\n\n")
    assert len(read_dcell_pairs(path)) == 2
    path = tmp_path / "inside"
    path.write_text("\n".join([DCELL_LINES[0], "", DCELL_LINES[1]]) + "\n")
    with raises_at(path, 2, "blank line"):
        read_dcell_pairs(path)


def _sgd_orfs(shared_data: Path) -> set[str]:
    """ORF names of SGD_features.tab (column 4 where column 2 is "ORF")."""
    with open(shared_data / "sgd" / "SGD_features.tab", newline="", encoding="utf-8") as fh:
        return {row[3] for row in csv.reader(fh, delimiter="\t") if row[1] == "ORF"}


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "n_rows"), [("GO_0006281_training_data_2016_0", 8783),
                                              ("GO_0006281_testing_data_2016_0", 2868)])
def test_read_dcell_pairs_real_slice(shared_data, name, n_rows):
    path = shared_data / "costanzo2016_dna_repair" / name
    qc = QCReport(path)
    frame = read_dcell_pairs(path, qc=qc)
    assert len(frame) == n_rows
    assert qc.counts["rows_read"] == n_rows and qc.counts["rows_same_gene"] == 0
    # Every row is a distinct pair (DCell lists each pair once).
    assert not frame.duplicated(["gene_a", "gene_b", "gene_c"]).any()
    assert (frame["arity"] == 2).all() and (frame["gene_c"] == "").all()
    assert (frame["gene_a"] < frame["gene_b"]).all()
    genes = set(frame["gene_a"]) | set(frame["gene_b"])
    assert all(ORF_PATTERN.match(g) for g in genes)
    assert genes <= _sgd_orfs(shared_data)
    assert len(genes) == 162  # the GO:0006281 subtree's genes (GO_0006281_topology)
    assert frame["p_value"].isna().all()
    assert np.isfinite(frame["tau"]).all() and frame["tau"].between(-1, 1).all()
    # First line of the training file: "2 YLR035C YML060W 0.0447".
    if name.startswith("GO_0006281_training"):
        assert frame.iloc[0][["gene_a", "gene_b", "tau"]].tolist() == ["YLR035C", "YML060W",
                                                                       0.0447]


@pytest.mark.realdata
def test_dcell_real_train_and_test_are_disjoint(shared_data):
    folder = shared_data / "costanzo2016_dna_repair"
    train = read_dcell_pairs(folder / "GO_0006281_training_data_2016_0")
    test = read_dcell_pairs(folder / "GO_0006281_testing_data_2016_0")
    key = ["gene_a", "gene_b"]
    assert train[key].merge(test[key]).empty
    assert is_orf(train.iloc[0]["gene_a"])
