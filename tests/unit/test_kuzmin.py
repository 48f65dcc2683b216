"""Kuzmin 2018 Data S1 (TSV) and Kuzmin 2020 Table S1/S3 (xlsx) readers and writers.

Fixtures are written in tmp_path in the exact published layouts, with real strain ids, allele
names and (for the ntg1Δ+hoΔ rows) real values quoted in docs/reference/data_sources.md.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geneint.data.files import InputFormatError, QCReport
from geneint.data.kuzmin import (
    KUZMIN2018_COLUMNS,
    KUZMIN2020_COLUMNS,
    read_kuzmin2018,
    read_kuzmin2020,
    write_kuzmin2018_tsv,
    write_kuzmin2020_xlsx,
)

HEADER = "\t".join(KUZMIN2018_COLUMNS)

# Data rows (file lines 2..10). Lines 2-4 are real Kuzmin 2020 S1 rows (same 12-column layout,
# blank query-fitness cell); the others use real strain ids with illustrative values.
ROWS = [
    "YAL015C+YDL227C_tm461\tntg1Δ+hoΔ\tYBL007C_dma91\tsla1Δ\tdigenic\t0.007534\t0.007534\t4.50E-01\t\t0.962\t0.9695\t0.0465",
    "YAL015C+YDL227C_tm461\tntg1Δ+hoΔ\tYBL008W_dma90\thir1Δ\tdigenic\t-0.008696\t-0.008696\t3.30E-01\t\t1.02\t1.0113\t0.0123",
    "YAL015C+YDL227C_tm461\tntg1Δ+hoΔ\tYBL023C_tsa111\tmcm2-1\tdigenic\t0.005416\t0.005416\t4.65E-01\t\t0.909\t0.9144\t0.0479",
    "YAL015C+YOL043C_tm72\tntg1Δ+ntg2Δ\tYBL007C_dma91\tsla1Δ\ttrigenic\t-0.1123\t-0.0951\t1.20E-02\t1.0133\t0.962\t0.8712\t0.0301",
    "YAR002W+YML107C_tm2550\tnup60Δ+pml39Δ\tYAL048C_dma5203\tgem1Δ\ttrigenic\t-0.2\t-0.1874\t3.10E-03\t0.5128\t0.83\t0.21\t0.04",
    "YAR002W+YDL227C_tm3180\tnup60Δ+hoΔ\tYAL048C_dma5203\tgem1Δ\tdigenic\t0.01\t0.0123\t2.00E-01\t0.95\t0.83\t0.8103\t0.0463",
    "YAR002W+YML107C_tm2550\tnup60Δ+pml39Δ\tYBR001C_tsa100\tnth2-5001\ttrigenic\t0.05\t0.0612\t3.10E-01\t0.5128\t0.88\t0.5\t0.03",
    # line 9: type mismatch (a hoΔ query cannot give a trigenic row)
    "YAL015C+YDL227C_tm461\tntg1Δ+hoΔ\tYBL021C_dma117\thap3Δ\ttrigenic\t-0.096643\t-0.096643\t1.68E-01\t\t0.852\t0.7554\t0.1147",
    # line 10: degenerate (array gene is a query gene: the triple collapses to a pair)
    "YAR002W+YML107C_tm2550\tnup60Δ+pml39Δ\tYML107C_dma1234\tpml39Δ\ttrigenic\t-0.3\t-0.3\t1.00E-02\t0.5128\t0.9\t0.1\t0.02",
]

EXPECTED = [
    ("YAL015C", "YBL007C", "", 2, 0.007534, 0.45),
    ("YAL015C", "YBL008W", "", 2, -0.008696, 0.33),
    ("YAL015C", "YBL023C", "", 2, 0.005416, 0.465),
    ("YAL015C", "YBL007C", "YOL043C", 3, -0.0951, 0.012),
    ("YAL048C", "YAR002W", "YML107C", 3, -0.1874, 0.0031),
    ("YAL048C", "YAR002W", "", 2, 0.0123, 0.2),
    ("YAR002W", "YBR001C", "YML107C", 3, 0.0612, 0.31),
]


def write_lines(path: Path, rows: list[str], encoding: str = "utf-8",
                header: str = HEADER) -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def expected_frame(source: str) -> pd.DataFrame:
    frame = pd.DataFrame(EXPECTED, columns=["gene_a", "gene_b", "gene_c", "arity", "tau",
                                            "p_value"])
    frame["arity"] = frame["arity"].astype(np.int8)
    for col in ("gene_a", "gene_b", "gene_c"):
        frame[col] = frame[col].astype(str)
    frame["source"] = pd.Series([source] * len(frame), dtype=str)
    return frame


def fixture_table() -> pd.DataFrame:
    """The fixture rows as a frame of verbatim strings (published text, "" for blanks)."""
    return pd.DataFrame([r.split("\t") for r in ROWS], columns=KUZMIN2018_COLUMNS)


def numeric_table(columns: list[str]) -> pd.DataFrame:
    """The fixture rows with numeric columns as floats (NaN for blank cells)."""
    table = fixture_table()
    for col in KUZMIN2018_COLUMNS[5:]:
        table[col] = pd.to_numeric(table[col].replace("", np.nan))
    table.columns = columns
    return table


@contextlib.contextmanager
def raises_at(path: Path, line: int, *fragments: str) -> Iterator[pytest.ExceptionInfo]:
    """Expect an InputFormatError naming ``path`` and ``line`` and containing ``fragments``."""
    with pytest.raises(InputFormatError) as info:
        yield info
    message = str(info.value)
    assert str(path) in message
    assert f":{line}:" in message, message
    assert info.value.line == line
    for fragment in fragments:
        assert fragment in message, message


# ---------------------------------------------------------------------------------------------
# Kuzmin 2018 TSV
# ---------------------------------------------------------------------------------------------


def test_read_kuzmin2018_canonical_output(tmp_path):
    path = write_lines(tmp_path / "aao1729_data_s1.tsv", ROWS)
    qc = QCReport(path)
    frame = read_kuzmin2018(path, qc=qc)
    pd.testing.assert_frame_equal(frame, expected_frame("kuzmin2018"))
    assert qc.counts["rows_read"] == 9
    assert qc.counts["rows_kept"] == 7
    assert qc.counts["rows_digenic"] == 4
    assert qc.counts["rows_trigenic"] == 3
    assert qc.counts["rows_type_mismatch"] == 1
    assert qc.counts["rows_degenerate_gene_set"] == 1
    assert qc.examples["rows_type_mismatch"][0].startswith("line 9: YAL015C+YDL227C_tm461")
    assert qc.examples["rows_degenerate_gene_set"][0].startswith("line 10:")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be"])
def test_kuzmin2018_encodings_give_identical_rows(tmp_path, encoding):
    reference = read_kuzmin2018(write_lines(tmp_path / "utf8.tsv", ROWS))
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + ("\n".join([HEADER, *ROWS]) + "\n").encode("utf-16-be")
        path = tmp_path / "be.tsv"
        path.write_bytes(data)
    else:
        path = write_lines(tmp_path / f"{encoding}.tsv", ROWS, encoding=encoding)
    pd.testing.assert_frame_equal(read_kuzmin2018(path), reference)


def test_kuzmin2018_crlf_and_gzip_give_identical_rows(tmp_path):
    reference = read_kuzmin2018(write_lines(tmp_path / "plain.tsv", ROWS))
    crlf = tmp_path / "crlf.tsv"
    crlf.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("utf-8"))
    pd.testing.assert_frame_equal(read_kuzmin2018(crlf), reference)
    gz = tmp_path / "s1.tsv.gz"
    gz.write_bytes(gzip.compress((tmp_path / "plain.tsv").read_bytes()))
    pd.testing.assert_frame_equal(read_kuzmin2018(gz), reference)


def test_kuzmin2018_trailing_blank_lines_are_fine(tmp_path):
    path = write_lines(tmp_path / "s1.tsv", [*ROWS, "", "   "])
    assert len(read_kuzmin2018(path)) == 7


def test_kuzmin2018_universe_drop_and_error(tmp_path):
    path = write_lines(tmp_path / "s1.tsv", ROWS)
    genes = {g for row in EXPECTED for g in row[:3] if g}
    # YDL227C (HO) is not in the universe and must not matter: it is never part of a set.
    universe = genes - {"YBL007C"}
    qc = QCReport(path)
    frame = read_kuzmin2018(path, universe=universe, qc=qc)
    assert len(frame) == 5
    assert "YBL007C" not in set(frame[["gene_a", "gene_b", "gene_c"]].to_numpy().ravel())
    assert qc.counts["rows_gene_outside_universe"] == 2
    assert qc.examples["rows_gene_outside_universe"][0].startswith("line 2:")
    with raises_at(path, 2, "YBL007C", "universe"):
        read_kuzmin2018(path, universe=universe, unknown_genes="error")
    with pytest.raises(ValueError, match="unknown_genes"):
        read_kuzmin2018(path, unknown_genes="keep")


def _replace_field(row: str, index: int, value: str) -> str:
    fields = row.split("\t")
    fields[index] = value
    return "\t".join(fields)


@pytest.mark.parametrize(
    ("row", "make_bad", "fragments"),
    [
        (2, lambda r: "\t".join(r.split("\t")[:11]), ("expected 12 tab-separated fields",
                                                      "found 11")),
        (1, lambda r: _replace_field(r, 0, "NOTAGENE+YAL015C_tm1"), ("unknown gene 'NOTAGENE'",
                                                                     "Query strain ID")),
        (4, lambda r: _replace_field(r, 2, "YBL00C_dma1"), ("unknown gene 'YBL00C'",
                                                            "Array strain ID")),
        (3, lambda r: _replace_field(r, 6, "NaN"), ("Adjusted genetic interaction score "
                                                    "(epsilon or tau)", "'NaN'")),
        (3, lambda r: _replace_field(r, 6, ""), ("epsilon or tau", "blank cell")),
        (5, lambda r: _replace_field(r, 7, "NaN"), ("'P-value'", "'NaN'")),
        (5, lambda r: _replace_field(r, 7, "n.s."), ("'P-value'", "'n.s.'")),
        (5, lambda r: _replace_field(r, 7, "1.5"), ("outside [0, 1]",)),
        (0, lambda r: _replace_field(r, 4, "quadrigenic"), ("Combined mutant type",
                                                           "'quadrigenic'")),
        (0, lambda r: _replace_field(r, 0, "YAL015C+YOL043C+YBL007C_tm1"),
         ("exactly two genes",)),
        (0, lambda r: _replace_field(r, 0, "YAL015C_tm1"), ("exactly two genes",)),
    ],
)
def test_kuzmin2018_bad_rows_raise_with_line(tmp_path, row, make_bad, fragments):
    rows = list(ROWS)
    rows[row] = make_bad(rows[row])
    path = write_lines(tmp_path / "bad.tsv", rows)
    with raises_at(path, row + 2, *fragments):
        read_kuzmin2018(path)


def test_kuzmin2018_first_problem_in_file_order_wins(tmp_path):
    rows = list(ROWS)
    rows[6] = _replace_field(rows[6], 6, "NaN")  # line 8
    rows[4] = _replace_field(rows[4], 2, "BAD_dma1")  # line 6: reported first
    path = write_lines(tmp_path / "bad.tsv", rows)
    with raises_at(path, 6, "unknown gene 'BAD'"):
        read_kuzmin2018(path)


def test_kuzmin2018_wrong_header(tmp_path):
    header = HEADER.replace("P-value", "p-value")
    path = write_lines(tmp_path / "bad.tsv", ROWS, header=header)
    with raises_at(path, 1, "expected columns", "'P-value'", "'p-value'"):
        read_kuzmin2018(path)


def test_kuzmin2018_empty_file(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_bytes(b"")
    with raises_at(path, 1, "empty file"):
        read_kuzmin2018(path)


def test_kuzmin2018_blank_line_inside_table(tmp_path):
    path = write_lines(tmp_path / "bad.tsv", [ROWS[0], "", *ROWS[1:]])
    with raises_at(path, 3, "blank line", "line 4"):
        read_kuzmin2018(path)


def test_kuzmin2018_latin1_bytes(tmp_path):
    text = "\n".join([HEADER, *ROWS]) + "\n"
    # A latin-1 export: "Δ" cannot be encoded, the fourth data line has "é" as byte 0xE9.
    lines = text.encode("utf-8").split(b"\n")
    lines[4] = lines[4].replace("ntg1Δ+ntg2Δ".encode(), "ntg1é+ntg2é".encode("latin-1"))
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"\n".join(lines))
    with raises_at(path, 5, "cannot decode byte", "xe9"):
        read_kuzmin2018(path)


def test_kuzmin2018_utf16_without_bom(tmp_path):
    # With "Δ" in the alleles, the bytes are not valid UTF-8: iter_lines reports the first
    # line holding one (line 2), and says which encodings are accepted.
    path = write_lines(tmp_path / "nobom.tsv", ROWS, encoding="utf-16-le")
    with raises_at(path, 2, "cannot decode", "UTF-16 with a byte-order mark"):
        read_kuzmin2018(path)
    # Pure ASCII UTF-16 decodes as UTF-8 with NULs: the header check names the likely cause.
    ascii_rows = [r.replace("Δ", "-delta") for r in ROWS]
    path = write_lines(tmp_path / "nobom_ascii.tsv", ascii_rows, encoding="utf-16-le")
    with raises_at(path, 1, "UTF-16 without a byte-order mark"):
        read_kuzmin2018(path)


def test_kuzmin2018_truncated_gzip(tmp_path):
    # Enough rows that the cut falls well after the first line.
    rows = ROWS[:7] * 3000
    data = ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")
    packed = gzip.compress(data)
    cut = packed[: len(packed) // 2]
    path = tmp_path / "s1.tsv.gz"
    path.write_bytes(cut)
    # Lines that are fully recoverable from the truncated stream.
    recoverable = zlib.decompressobj(31).decompress(cut).count(b"\n")
    with pytest.raises(InputFormatError) as info:
        read_kuzmin2018(path)
    assert str(path) in str(info.value)
    assert "truncated" in str(info.value)
    # The reported line is never past the point where the data stops.
    assert 1 <= info.value.line <= recoverable + 1


# ---------------------------------------------------------------------------------------------
# Writers and round trips
# ---------------------------------------------------------------------------------------------


def test_write_kuzmin2018_verbatim_strings_reproduce_the_file(tmp_path):
    original = write_lines(tmp_path / "original.tsv", ROWS)
    copy = tmp_path / "copy.tsv"
    write_kuzmin2018_tsv(fixture_table(), copy)
    assert copy.read_bytes() == original.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_write_kuzmin2018_round_trip(tmp_path, encoding):
    table = numeric_table(KUZMIN2018_COLUMNS)
    # Values that need full precision to round-trip.
    table.loc[0, "Adjusted genetic interaction score (epsilon or tau)"] = 0.1 + 0.2
    table.loc[1, "P-value"] = 1e-300
    path = tmp_path / "s1.tsv"
    write_kuzmin2018_tsv(table, path, encoding=encoding)
    raw = path.read_bytes()
    if encoding == "utf-16":
        assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")
    else:
        assert not raw.startswith(b"\xef\xbb\xbf")
    frame = read_kuzmin2018(path)
    expected = expected_frame("kuzmin2018")
    expected.loc[0, "tau"] = 0.1 + 0.2
    expected.loc[1, "p_value"] = 1e-300
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    # The blank fitness cells are written as empty fields.
    assert raw.decode(encoding).splitlines()[1].split("\t")[8] == ""


def test_write_kuzmin2018_rejects_missing_columns_and_encodings(tmp_path):
    table = numeric_table(KUZMIN2018_COLUMNS)
    with pytest.raises(ValueError, match="P-value"):
        write_kuzmin2018_tsv(table.drop(columns="P-value"), tmp_path / "x.tsv")
    with pytest.raises(ValueError, match="encoding"):
        write_kuzmin2018_tsv(table, tmp_path / "x.tsv", encoding="latin-1")
    assert not (tmp_path / "x.tsv").exists()


# ---------------------------------------------------------------------------------------------
# Kuzmin 2020 xlsx
# ---------------------------------------------------------------------------------------------


def test_read_kuzmin2020_xlsx_with_title_row(tmp_path):
    path = tmp_path / "aaz5667-Table-S1.xlsx"
    write_kuzmin2020_xlsx(numeric_table(KUZMIN2020_COLUMNS), path)
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Table S1. Raw genetic interaction dataset"
    assert list(rows[1]) == KUZMIN2020_COLUMNS
    assert rows[2][8] is None  # blank query fitness stays blank
    qc = QCReport(path)
    frame = read_kuzmin2020(path, qc=qc)
    pd.testing.assert_frame_equal(frame, expected_frame("kuzmin2020"))
    assert qc.counts["rows_read"] == 9
    assert qc.counts["rows_type_mismatch"] == 1
    assert qc.counts["rows_degenerate_gene_set"] == 1
    # Spreadsheet row numbers: title 1, header 2, first data row 3.
    assert qc.examples["rows_type_mismatch"][0].startswith("line 10:")


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _data_rows() -> list[list[object]]:
    return numeric_table(KUZMIN2020_COLUMNS).astype(object).where(
        lambda t: t.notna(), None).values.tolist()


def test_read_kuzmin2020_trailing_blank_row_and_strings(tmp_path):
    rows = _data_rows()
    rows[0][7] = "4.50E-01"  # p-value stored as text, as in some exports
    path = _workbook(tmp_path / "s3.xlsx", [["Table S3"], KUZMIN2020_COLUMNS, *rows,
                                            [None] * 12, []])
    pd.testing.assert_frame_equal(read_kuzmin2020(path), expected_frame("kuzmin2020"))


@pytest.mark.parametrize(
    ("row", "col", "value", "fragments"),
    [
        (2, 6, None, ("epsilon or tau", "blank cell")),
        (4, 7, None, ("'P-value'", "blank cell")),
        (4, 7, "NaN", ("'P-value'", "'NaN'")),
        (0, 0, "NOTAGENE+YAL015C_tm1", ("unknown gene 'NOTAGENE'",)),
    ],
)
def test_read_kuzmin2020_bad_cells(tmp_path, row, col, value, fragments):
    rows = _data_rows()
    rows[row][col] = value
    path = _workbook(tmp_path / "bad.xlsx", [["Table S1"], KUZMIN2020_COLUMNS, *rows])
    with raises_at(path, row + 3, *fragments):
        read_kuzmin2020(path)


def test_read_kuzmin2020_layout_errors(tmp_path):
    rows = _data_rows()
    no_title = _workbook(tmp_path / "no_title.xlsx", [KUZMIN2020_COLUMNS, *rows])
    with raises_at(no_title, 1, "title row"):
        read_kuzmin2020(no_title)
    header_2018 = _workbook(tmp_path / "h2018.xlsx", [["Table S1"], KUZMIN2018_COLUMNS, *rows])
    with raises_at(header_2018, 2, "Double/triple mutant fitness"):
        read_kuzmin2020(header_2018)
    blank_inside = _workbook(tmp_path / "blank.xlsx",
                             [["Table S1"], KUZMIN2020_COLUMNS, rows[0], [], *rows[1:]])
    with raises_at(blank_inside, 4, "blank row"):
        read_kuzmin2020(blank_inside)
    too_wide = _workbook(tmp_path / "wide.xlsx",
                         [["Table S1"], KUZMIN2020_COLUMNS, rows[0], [*rows[1], "extra"]])
    with raises_at(too_wide, 4, "expected 12 cells, found 13"):
        read_kuzmin2020(too_wide)


def test_read_kuzmin2020_rejects_other_files(tmp_path):
    tsv = write_lines(tmp_path / "s1.tsv", ROWS)
    with raises_at(tsv, 0, ".xlsx"):
        read_kuzmin2020(tsv)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip file")
    with raises_at(fake, 0, "not a readable xlsx"):
        read_kuzmin2020(fake)


def test_write_kuzmin2020_is_atomic_and_round_trips(tmp_path):
    path = tmp_path / "out" / "t.xlsx"
    table = numeric_table(KUZMIN2020_COLUMNS)
    write_kuzmin2020_xlsx(table, path, title="Table S3. Pilot screens")
    assert [p.name for p in path.parent.iterdir()] == ["t.xlsx"]  # no temp file left behind
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    assert next(book.worksheets[0].iter_rows(values_only=True))[0] == "Table S3. Pilot screens"
    pd.testing.assert_frame_equal(read_kuzmin2020(path), expected_frame("kuzmin2020"),
                                  check_exact=True)


def test_small_blocks_give_same_rows_and_line_numbers(tmp_path, monkeypatch):
    from geneint.data import kuzmin

    tsv = write_lines(tmp_path / "s1.tsv", ROWS * 4)
    xlsx = tmp_path / "s1.xlsx"
    write_kuzmin2020_xlsx(pd.concat([numeric_table(KUZMIN2020_COLUMNS)] * 4,
                                    ignore_index=True), xlsx)
    whole_tsv, whole_xlsx = read_kuzmin2018(tsv), read_kuzmin2020(xlsx)
    monkeypatch.setattr(kuzmin, "BLOCK_ROWS", 4)
    qc = QCReport(tsv)
    pd.testing.assert_frame_equal(read_kuzmin2018(tsv, qc=qc), whole_tsv)
    assert qc.counts["rows_read"] == 36 and qc.counts["rows_type_mismatch"] == 4
    assert qc.examples["rows_type_mismatch"][:2] == [
        "line 9: YAL015C+YDL227C_tm461 x YBL021C_dma117 (trigenic)",
        "line 18: YAL015C+YDL227C_tm461 x YBL021C_dma117 (trigenic)",
    ]
    pd.testing.assert_frame_equal(read_kuzmin2020(xlsx), whole_xlsx)
    rows = ROWS * 4
    rows[30] = _replace_field(rows[30], 7, "")
    bad = write_lines(tmp_path / "bad.tsv", rows)
    with raises_at(bad, 32, "'P-value'"):
        read_kuzmin2018(bad)
