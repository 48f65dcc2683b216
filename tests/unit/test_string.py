"""STRING readers and writer: exact canonical output, every bad-input class, real DANGO slices."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geneint.data.canonical import EDGE_COLUMNS
from geneint.data.dango_networks import read_dango_network, read_dango_networks
from geneint.data.files import InputFormatError, QCReport
from geneint.data.string import (
    SCORE_COLUMNS,
    STRING_HEADER,
    read_string_links,
)
from geneint.data.string_writer import write_string_links

HEADER = " ".join(STRING_HEADER)
FILE = "4932.protein.links.detailed.v12.0.txt.gz"
DANGO_CHANNELS = ["neighborhood", "fusion", "cooccurence", "database"]


def row(p1: str, p2: str, *scores: int | str) -> str:
    """One links.detailed line; ``scores`` are the 8 score fields (ints or raw text)."""
    assert len(scores) == 8
    return " ".join([p1, p2, *map(str, scores)])


def write_gz(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    return path


#       nb  fu  co  cx   ex   db   tm   comb
A_B = (0, 0, 0, 62, 400, 900, 100, 950)   # YAL001C - YAL002W
B_C = (0, 0, 0, 0, 150, 0, 0, 150)        # YAL002W - YBR123C
Q_A = (5, 0, 371, 0, 0, 0, 0, 371)        # Q0045 - YAL001C

TINY = [
    HEADER,
    row("4932.Q0045", "4932.YAL001C", *Q_A),
    row("4932.YAL001C", "4932.YAL002W", *A_B),
    row("4932.YAL001C", "4932.Q0045", *Q_A),
    row("4932.YAL002W", "4932.YAL001C", *A_B),
    row("4932.YAL002W", "4932.YBR123C", *B_C),
    row("4932.YBR123C", "4932.YAL002W", *B_C),
]


def edges(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=EDGE_COLUMNS)
    for col in ("gene_a", "gene_b", "channel"):
        frame[col] = frame[col].astype(object)
    frame["weight"] = frame["weight"].astype(np.float32)
    return frame


# --------------------------------------------------------------------------------------------
# links.detailed reader
# --------------------------------------------------------------------------------------------


def test_tiny_file_gives_exact_canonical_edges(tmp_path: Path) -> None:
    qc = QCReport(tmp_path / FILE)
    got = read_string_links(write_gz(tmp_path / FILE, TINY), qc=qc)
    expected = edges([
        ("YAL001C", "YAL002W", "coexpression", 0.062),
        ("Q0045", "YAL001C", "cooccurence", 0.371),
        ("YAL001C", "YAL002W", "database", 0.9),
        ("YAL001C", "YAL002W", "experimental", 0.4),
        ("YAL002W", "YBR123C", "experimental", 0.15),
        ("Q0045", "YAL001C", "neighborhood", 0.005),
    ])
    pd.testing.assert_frame_equal(got, expected)
    assert got["channel"].dtype == object
    assert qc.counts["rows_read"] == 6
    assert qc.counts["edges_experimental"] == 2
    assert qc.counts["edges_fusion"] == 0
    assert qc.counts["pairs_listed_once"] == 0
    assert qc.info["genes"] == 4


def test_channel_subset_and_plain_text_input(tmp_path: Path) -> None:
    plain = tmp_path / "links.txt"
    plain.write_text("\n".join(TINY) + "\n", encoding="utf-8")
    got = read_string_links(plain, channels=["experimental", "combined_score"])
    assert got["channel"].tolist() == ["combined_score"] * 3 + ["experimental"] * 2
    assert got["weight"].tolist() == pytest.approx([0.371, 0.95, 0.15, 0.4, 0.15])


def test_header_only_gives_empty_table(tmp_path: Path) -> None:
    got = read_string_links(write_gz(tmp_path / FILE, [HEADER]))
    assert list(got.columns) == EDGE_COLUMNS and got.empty


def test_unknown_channel_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown STRING channel"):
        read_string_links(write_gz(tmp_path / FILE, TINY), channels=["textmine"])


def test_pairs_listed_once_are_kept_and_self_loops_dropped(tmp_path: Path) -> None:
    lines = [
        HEADER,
        row("4932.YAL001C", "4932.YAL001C", 0, 0, 0, 0, 300, 0, 0, 300),
        row("4932.YBR123C", "4932.YAL002W", *B_C),
    ]
    qc = QCReport(tmp_path / FILE)
    got = read_string_links(write_gz(tmp_path / FILE, lines), qc=qc)
    pd.testing.assert_frame_equal(got, edges([("YAL002W", "YBR123C", "experimental", 0.15)]))
    assert qc.counts["self_loops"] == 1
    assert qc.counts["pairs_listed_once"] == 1
    assert qc.examples["pairs_listed_once"] == [f"line 3: {lines[2]}"]


def test_universe_filter_is_counted(tmp_path: Path) -> None:
    qc = QCReport(tmp_path / FILE)
    got = read_string_links(write_gz(tmp_path / FILE, TINY),
                            universe={"YAL001C", "YAL002W", "Q0045"}, qc=qc)
    assert set(got["gene_a"]) | set(got["gene_b"]) == {"YAL001C", "YAL002W", "Q0045"}
    assert len(got) == 5
    assert qc.counts["genes_outside_universe"] == 2
    assert qc.examples["genes_outside_universe"] == ["YBR123C"]
    assert qc.counts["rows_read"] == 6
    assert qc.info["genes"] == 3


def test_universe_error_mode_raises_on_first_outside_row(tmp_path: Path) -> None:
    path = write_gz(tmp_path / FILE, TINY)
    with pytest.raises(InputFormatError, match="YBR123C.*not in the gene universe") as err:
        read_string_links(path, universe={"YAL001C", "YAL002W", "Q0045"}, unknown_genes="error")
    assert err.value.line == 6


# --------------------------------------------------------------------------------------------
# bad input: each class names the file and the line
# --------------------------------------------------------------------------------------------

GOOD = row("4932.YAL001C", "4932.YAL002W", *A_B)
GOOD_BACK = row("4932.YAL002W", "4932.YAL001C", *A_B)

BAD_LINES = {
    "wrong header": (
        [HEADER.replace(" ", "\t"), GOOD], 1, "expected columns"),
    "missing header column": (
        [HEADER.replace(" combined_score", ""), GOOD], 1, "missing ['combined_score']"),
    "no header": ([GOOD, GOOD_BACK], 1, "wrong header"),
    "9 fields": (
        [HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", *A_B).rsplit(" ", 1)[0]], 3,
        "found 9"),
    "tab separated row": ([HEADER, GOOD, GOOD_BACK.replace(" ", "\t")], 3, "found 1"),
    "human protein": (
        [HEADER, row("9606.ENSP000", "4932.YAL001C", *A_B)], 2, "unknown gene '9606.ENSP000'"),
    "not an ORF": (
        [HEADER, GOOD, row("4932.YAL002W", "4932.NOTAGENE", *A_B)], 3,
        "unknown gene '4932.NOTAGENE'"),
    "nan score": ([HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", 0, 0, "nan", 62, 400,
                                     900, 100, 950)], 3, "cooccurence score 'nan' is NaN"),
    "NaN score": ([HEADER, GOOD, GOOD_BACK, row("4932.YAL002W", "4932.YBR123C", *B_C[:7],
                                                "NaN")], 4, "'NaN' is NaN or not an integer"),
    "empty score": ([HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", "", *A_B[1:])], 3,
                    "neighborhood score '' is NaN or not an integer"),
    "float score": ([HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", *A_B[:7], "950.5")],
                    3, "not an integer"),
    "exponent score": ([HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", *A_B[:7], "1e3")],
                       3, "combined_score score '1e3' is NaN or not an integer"),
    "huge score": ([HEADER, GOOD, GOOD_BACK, row("4932.YAL002W", "4932.YBR123C",
                                                 "99999999999999999999", *B_C[1:])], 4,
                   "neighborhood score '99999999999999999999' outside 0..1000"),
    "score 1001": ([HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", *A_B[:7], 1001)], 3,
                   "combined_score score 1001 outside 0..1000"),
    "negative score": ([HEADER, row("4932.YAL002W", "4932.YAL001C", -1, *A_B[1:])], 2,
                       "neighborhood score -1 outside"),
    "directions disagree": (
        [HEADER, GOOD, row("4932.YAL002W", "4932.YAL001C", 0, 0, 0, 62, 401, 900, 100, 950)],
        3, "disagree with line 2 (experimental 401 vs 400)"),
    "row repeated": ([HEADER, GOOD, GOOD], 3, "already listed in this direction on line 2"),
    "pair listed thrice": ([HEADER, GOOD, GOOD_BACK, GOOD_BACK], 4, "more than twice"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_bad_input_names_file_and_line(tmp_path: Path, case: str) -> None:
    lines, line, problem = BAD_LINES[case]
    path = write_gz(tmp_path / FILE, lines)
    with pytest.raises(InputFormatError) as err:
        read_string_links(path)
    assert err.value.line == line
    assert problem in err.value.problem
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_disagreement_in_an_unused_channel_is_tolerated(tmp_path: Path) -> None:
    back = row("4932.YAL002W", "4932.YAL001C", *A_B[:6], 101, 950)  # textmining differs
    got = read_string_links(write_gz(tmp_path / FILE, [HEADER, GOOD, back]))
    assert len(got) == 3


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(InputFormatError, match="empty file") as err:
        read_string_links(path)
    assert err.value.line == 1


def test_latin1_byte_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "links.txt"
    text = "\n".join([HEADER, GOOD, GOOD_BACK.replace("YAL001C", "YAL001C\xe9")]) + "\n"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputFormatError, match=r"cannot decode byte b'\\xe9'") as err:
        read_string_links(path)
    assert err.value.line == 3
    assert str(path) in str(err.value)


def test_utf16_without_bom_is_rejected_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "links.txt"
    path.write_bytes(("\n".join([HEADER, GOOD, GOOD_BACK]) + "\n").encode("utf-16-le"))
    with pytest.raises(InputFormatError, match="UTF-16 without a byte-order mark") as err:
        read_string_links(path)
    assert err.value.line == 1


def test_truncated_gzip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / FILE
    write_gz(path, TINY * 20)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(InputFormatError, match="truncated gzip") as err:
        read_string_links(path)
    # The whole (small) file is one read, so nothing was decoded before the stream broke.
    assert err.value.line == 1
    assert str(path) in str(err.value)


# --------------------------------------------------------------------------------------------
# writer
# --------------------------------------------------------------------------------------------


def random_scores(n_pairs: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    genes = [f"Y{c}L{i:03d}W" for c in "ABC" for i in range(1, 30)] + ["Q0045", "Q0250"]
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < n_pairs:
        a, b = rng.choice(genes, 2, replace=False)
        pairs.add((min(a, b), max(a, b)))
    frame = pd.DataFrame(sorted(pairs), columns=["gene_a", "gene_b"])
    # Swap some pairs: the writer must accept either orientation.
    flip = rng.random(len(frame)) < 0.5
    frame.loc[flip, ["gene_a", "gene_b"]] = frame.loc[flip, ["gene_b", "gene_a"]].to_numpy()
    for col in SCORE_COLUMNS:
        frame[col] = np.where(rng.random(len(frame)) < 0.4, rng.integers(1, 1000, len(frame)), 0)
    frame["combined_score"] = rng.integers(150, 1000, len(frame))
    return frame


def expected_edges(scores: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    lo = np.minimum(scores["gene_a"], scores["gene_b"])
    hi = np.maximum(scores["gene_a"], scores["gene_b"])
    long = pd.concat(
        [pd.DataFrame({"gene_a": lo, "gene_b": hi, "channel": c, "weight": scores[c] / 1000})
         for c in channels]
    )
    long = long[long["weight"] > 0].sort_values(["channel", "gene_a", "gene_b"])
    return edges(list(long.itertuples(index=False, name=None)))


def test_round_trip(tmp_path: Path) -> None:
    scores = random_scores(300)
    path = tmp_path / FILE
    write_string_links(scores, path)
    qc = QCReport(path)
    got = read_string_links(path, channels=SCORE_COLUMNS, qc=qc)
    pd.testing.assert_frame_equal(got, expected_edges(scores, SCORE_COLUMNS))
    assert qc.counts["rows_read"] == 600 and qc.counts["pairs_listed_once"] == 0


def test_written_file_has_published_layout(tmp_path: Path) -> None:
    scores = random_scores(200, seed=1)
    path = tmp_path / "sub" / "4932.protein.links.detailed.v9.1.txt.gz"
    write_string_links(scores, path, version="9.1")
    lines = gzip.decompress(path.read_bytes()).decode("ascii").splitlines()
    assert lines[0] == HEADER
    rows = [line.split(" ") for line in lines[1:]]
    assert len(rows) == 400
    assert all(r[0].startswith("4932.") and r[1].startswith("4932.") for r in rows)
    keys = [(r[0], -int(r[9]), r[1]) for r in rows]
    assert keys == sorted(keys)  # grouped by protein1, partners by descending combined score
    assert {(r[0], r[1]) for r in rows} == {(r[1], r[0]) for r in rows}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    first = path.read_bytes()
    write_string_links(scores, path, version="9.1")
    assert path.read_bytes() == first  # deterministic


@pytest.mark.parametrize("change, problem", [
    (lambda s: s.assign(gene_a="NOTAGENE"), "systematic ORF"),
    (lambda s: s.assign(gene_b=s["gene_a"]), "self loop"),
    (lambda s: pd.concat([s, s.iloc[:1].rename(columns={"gene_a": "gene_b",
                                                        "gene_b": "gene_a"})]), "more than once"),
    (lambda s: s.assign(fusion=1001), "0..1000"),
    (lambda s: s.assign(fusion=0.5), "integers"),
    (lambda s: s.drop(columns="textmining"), "lack column"),
])
def test_writer_rejects_bad_scores(
    tmp_path: Path, change: Callable[[pd.DataFrame], pd.DataFrame], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        write_string_links(change(random_scores(10)), tmp_path / FILE)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# DANGO per-channel networks
# --------------------------------------------------------------------------------------------

DANGO_GENES = ["Q0045", "Q0250", "YAL001C", "YBR123C"]


def write_dango(
    tmp_path: Path, adjacency: list[str], genes: list[str] | None = None
) -> tuple[Path, Path]:
    genes_path = tmp_path / "yeast_string_genes.txt"
    genes_path.write_text("\n".join(genes or DANGO_GENES))  # no final newline, like DANGO's
    adj_path = tmp_path / "yeast_string_fusion_adjacency.txt"
    adj_path.write_text("".join(f"{line}\n" for line in adjacency))
    return genes_path, adj_path


def test_dango_networks_of_several_channels_are_one_edge_table(tmp_path: Path) -> None:
    genes_path, fusion = write_dango(tmp_path, ["1\t2\t0.449000", "2\t1\t0.449000"])
    database = tmp_path / "yeast_string_database_adjacency.txt"
    database.write_text("1\t2\t0.9\n2\t1\t0.9\n3\t4\t0.2\n4\t3\t0.2\n")
    qc = QCReport(tmp_path)
    got = read_dango_networks(genes_path, {"fusion": fusion, "database": database}, qc=qc)
    assert got.groupby("channel").size().to_dict() == {"database": 2, "fusion": 1}
    assert qc.counts["database/rows_read"] == 4 and qc.info["channels"] == ["fusion", "database"]
    with pytest.raises(ValueError, match="unknown channels"):
        read_dango_networks(genes_path, {"textmining": fusion})


def test_dango_network_exact(tmp_path: Path) -> None:
    adjacency = ["1\t2\t0.449000", "2\t1\t0.449000", "4\t3\t0.003000", "3\t4\t0.003000",
                 "3\t1\t0.150000", "3\t3\t0.500000"]
    qc = QCReport(tmp_path)
    got = read_dango_network(*write_dango(tmp_path, adjacency), "fusion", qc=qc)
    pd.testing.assert_frame_equal(got, edges([
        ("Q0045", "Q0250", "fusion", 0.449),
        ("Q0045", "YAL001C", "fusion", 0.15),
        ("YAL001C", "YBR123C", "fusion", 0.003),
    ]))
    assert qc.counts["pairs_listed_once"] == 1
    assert qc.counts["self_loops"] == 1
    assert qc.counts["edges_fusion"] == 3
    assert qc.info["genes"] == 4


DANGO_BAD = {
    "two fields": (["1\t2\t0.5", "2\t1"], None, 2, "expected 3 tab-separated fields"),
    "space separated": (["1 2 0.5"], None, 1, "found 1"),
    "id 0": (["0\t2\t0.5"], None, 1, "node id 0 outside 1..4"),
    "id too large": (["1\t2\t0.5", "2\t5\t0.5"], None, 2, "node id 5 outside 1..4"),
    "id not a number": (["1\tQ0045\t0.5"], None, 1, "node id 'Q0045' is not an integer"),
    "NaN weight": (["1\t2\tnan"], None, 1, "weight is NaN"),
    "text weight": (["1\t2\t0.5", "2\t1\tabc"], None, 2, "weight 'abc' is not a number"),
    "weight 0": (["1\t2\t0.000000"], None, 1, "outside (0, 1]"),
    "weight above 1": (["1\t2\t1.5"], None, 1, "weight 1.5 outside (0, 1]"),
    "directions disagree": (["1\t2\t0.5", "2\t1\t0.4"], None, 2, "disagree with line 1"),
}


@pytest.mark.parametrize("case", list(DANGO_BAD))
def test_dango_bad_adjacency(tmp_path: Path, case: str) -> None:
    adjacency, genes, line, problem = DANGO_BAD[case]
    genes_path, adj_path = write_dango(tmp_path, adjacency, genes)
    with pytest.raises(InputFormatError) as err:
        read_dango_network(genes_path, adj_path, "fusion")
    assert (err.value.path, err.value.line) == (str(adj_path), line)
    assert problem in err.value.problem


@pytest.mark.parametrize("genes, line, problem", [
    (["Q0045", "YAL001C", "NOTAGENE"], 3, "'NOTAGENE' is not a systematic"),
    (["Q0045", "", "YAL001C"], 2, "'' is not a systematic"),
    (["Q0045", "YAL001C", "Q0045"], 3, "duplicate gene 'Q0045' (first on line 1)"),
])
def test_dango_bad_genes(tmp_path: Path, genes: list[str], line: int, problem: str) -> None:
    genes_path, adj_path = write_dango(tmp_path, ["1\t2\t0.5"], genes)
    with pytest.raises(InputFormatError) as err:
        read_dango_network(genes_path, adj_path, "fusion")
    assert (err.value.path, err.value.line) == (str(genes_path), line)
    assert problem in err.value.problem


# --------------------------------------------------------------------------------------------
# real DANGO slices of STRING v9.1
# --------------------------------------------------------------------------------------------

REAL_COUNTS = {  # channel: (undirected edges, nodes), README + torchcell's parse of v9.1
    "neighborhood": (45_610, 2_172),
    "fusion": (1_361, 1_191),
    "cooccurence": (2_664, 1_271),
    "database": (33_486, 2_712),
}


@pytest.fixture(scope="module")
def real_slice(shared_data: Path) -> dict[str, pd.DataFrame]:
    folder = shared_data / "string_v9.1_partial"
    return {
        channel: read_dango_network(folder / "yeast_string_genes.txt",
                                    folder / f"yeast_string_{channel}_adjacency.txt", channel)
        for channel in DANGO_CHANNELS
    }


@pytest.mark.realdata
@pytest.mark.parametrize("channel", DANGO_CHANNELS)
def test_real_slice_counts(real_slice: dict[str, pd.DataFrame], channel: str) -> None:
    frame = real_slice[channel]
    n_edges, n_nodes = REAL_COUNTS[channel]
    assert len(frame) == n_edges
    assert len(set(frame["gene_a"]) | set(frame["gene_b"])) == n_nodes
    assert (frame["gene_a"] < frame["gene_b"]).all()
    scores = frame["weight"].to_numpy(np.float64) * 1000
    np.testing.assert_allclose(scores, np.round(scores), atol=1e-3)  # v9.1 integer scores


@pytest.mark.realdata
def test_real_slice_first_cooccurence_edge(real_slice: dict[str, pd.DataFrame]) -> None:
    first = real_slice["cooccurence"].iloc[0]
    assert (first["gene_a"], first["gene_b"], first["channel"]) == ("Q0045", "Q0250",
                                                                      "cooccurence")
    assert first["weight"] == np.float32(0.371)


@pytest.mark.realdata
def test_real_slice_round_trip(real_slice: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    """The real channels, written as a published links.detailed file, read back identically."""
    long = pd.concat(real_slice.values())
    long["score"] = np.round(long["weight"].to_numpy(np.float64) * 1000).astype(int)
    wide = long.pivot_table(index=["gene_a", "gene_b"], columns="channel", values="score",
                            fill_value=0, aggfunc="first").reset_index()
    for col in SCORE_COLUMNS:
        if col not in wide:
            wide[col] = 0
    wide["combined_score"] = wide[DANGO_CHANNELS].max(axis=1)
    path = tmp_path / "4932.protein.links.detailed.v9.1.txt.gz"
    write_string_links(wide, path, version="9.1")
    qc = QCReport(path)
    got = read_string_links(path, channels=DANGO_CHANNELS, qc=qc)
    expected = long[EDGE_COLUMNS].sort_values(["channel", "gene_a", "gene_b"])
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    assert qc.counts["rows_read"] == 2 * len(wide)
    assert qc.counts["pairs_listed_once"] == 0
