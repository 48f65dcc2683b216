"""build_interactions: dispatch to the readers, arity filter, cross-source duplicates, truth."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geneint.data.canonical import (
    INTERACTION_COLUMNS,
    read_interactions,
    write_interactions,
)
from geneint.data.costanzo import COSTANZO_SGA_COLUMNS
from geneint.data.files import InputFormatError
from geneint.data.interactions import TRUTH_COLUMNS, build_interactions, read_truth
from geneint.data.kuzmin import (
    KUZMIN2018_COLUMNS,
    KUZMIN2020_COLUMNS,
    write_kuzmin2020_xlsx,
)

KUZMIN_ROWS = [
    # line 2: {YAL015C, YBL007C}, tau 0.007534, p 0.45 (real Kuzmin 2020 S1 row)
    "YAL015C+YDL227C_tm461\tntg1Δ+hoΔ\tYBL007C_dma91\tsla1Δ\tdigenic\t0.007534\t0.007534\t4.50E-01\t\t0.962\t0.9695\t0.0465",
    # line 3: {YAL015C, YBL007C, YOL043C}
    "YAL015C+YOL043C_tm72\tntg1Δ+ntg2Δ\tYBL007C_dma91\tsla1Δ\ttrigenic\t-0.1123\t-0.0951\t1.20E-02\t1.0133\t0.962\t0.8712\t0.0301",
    # line 4: {YAL048C, YAR002W, YML107C}
    "YAR002W+YML107C_tm2550\tnup60Δ+pml39Δ\tYAL048C_dma5203\tgem1Δ\ttrigenic\t-0.2\t-0.1874\t3.10E-03\t0.5128\t0.83\t0.21\t0.04",
    # line 5: {YAL048C, YAR002W}
    "YAR002W+YDL227C_tm3180\tnup60Δ+hoΔ\tYAL048C_dma5203\tgem1Δ\tdigenic\t0.01\t0.0123\t2.00E-01\t0.95\t0.83\t0.8103\t0.0463",
    # line 6: the same triple as line 3, another strain: a within-source duplicate
    "YAL015C+YOL043C_tm73\tntg1Δ+ntg2Δ\tYBL007C_tsa9\tsla1-1\ttrigenic\t-0.3\t-0.25\t5.00E-02\t1.0\t0.9\t0.6\t0.03",
]

SGA_ROWS = [
    # {YAL015C, YBL007C} again, more significant than the Kuzmin measurement
    "YBL007C_tsq91\tsla1-1\tYAL015C_dma461\tntg1Δ\tDMA30\t-0.2\t0.01\t0.9\t0.96\t0.7\t0.02",
    "YAL001C_tsq508\ttfc3-g349e\tYBL023C_tsa111\tmcm2-1\tTSA30\t-0.0348\t0.005042\t0.8285\t0.9254\t0.7319\t0.0102",
]


@pytest.fixture
def sources(tmp_path: Path) -> list[tuple[str, Path]]:
    kuzmin = tmp_path / "aao1729_data_s1.tsv"
    kuzmin.write_text("\n".join(["\t".join(KUZMIN2018_COLUMNS), *KUZMIN_ROWS]) + "\n",
                      encoding="utf-8")
    sga = tmp_path / "SGA_NxN.txt"
    sga.write_text("\n".join(["\t".join(COSTANZO_SGA_COLUMNS), *SGA_ROWS]) + "\n",
                   encoding="utf-8")
    return [("kuzmin2018", kuzmin), ("costanzo2016_sga", sga)]


def _as_dict(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    key = frame["gene_a"] + "+" + frame["gene_b"] + "+" + frame["gene_c"]
    return {k.rstrip("+"): row for k, row in zip(key, frame.to_dict("records"), strict=True)}


def test_most_significant_across_sources(sources, tmp_path):
    table, qc = build_interactions(sources, universe=None)
    assert list(table.columns) == INTERACTION_COLUMNS
    assert table["arity"].dtype == np.int8 and table["n_measurements"].dtype == np.int32
    rows = _as_dict(table)
    # Order: resolve_duplicates orders most_significant sets by their winning row.
    assert sorted(rows) == sorted(["YAL015C+YBL007C", "YAL015C+YBL007C+YOL043C",
                                   "YAL048C+YAR002W+YML107C", "YAL048C+YAR002W",
                                   "YAL001C+YBL023C"])
    pair = rows["YAL015C+YBL007C"]
    # The SGA measurement has the smaller p-value (0.01 < 0.45): its τ and source are kept.
    assert (pair["tau"], pair["p_value"], pair["source"]) == (-0.2, 0.01, "costanzo2016")
    assert pair["n_measurements"] == 2
    triple = rows["YAL015C+YBL007C+YOL043C"]
    assert (triple["tau"], triple["p_value"], triple["n_measurements"]) == (-0.0951, 0.012, 2)
    assert rows["YAL001C+YBL023C"]["n_measurements"] == 1
    counts = qc.counts
    assert counts["kuzmin2018/rows_read"] == 5 and counts["kuzmin2018/rows_trigenic"] == 3
    assert counts["costanzo2016_sga/rows_read"] == 2
    assert counts["rows_measurements"] == 7
    assert counts["duplicate_sets"] == 2 and counts["duplicate_rows_merged"] == 2
    assert counts["sets_kept"] == 5 and counts["sets_trigenic"] == 2
    assert qc.info["duplicate_rule"] == "most_significant"
    assert [str(p) for _, p in sources] == qc.sources
    # The result is canonical.
    write_interactions(table, tmp_path / "interactions.parquet")
    pd.testing.assert_frame_equal(read_interactions(tmp_path / "interactions.parquet"), table)


def test_mean_rule_across_sources(sources):
    table, qc = build_interactions(sources, universe=None, duplicate_rule="mean")
    assert table.dtypes.to_dict() == build_interactions(sources, None)[0].dtypes.to_dict()
    assert table["source"].dtype == pd.Series([], dtype=str).dtype
    rows = _as_dict(table)
    assert list(rows) == ["YAL015C+YBL007C", "YAL015C+YBL007C+YOL043C",  # first occurrence
                          "YAL048C+YAR002W+YML107C", "YAL048C+YAR002W", "YAL001C+YBL023C"]
    pair = rows["YAL015C+YBL007C"]
    assert math.isclose(pair["tau"], (0.007534 - 0.2) / 2)
    assert pair["p_value"] == 0.01  # the best evidence of the set
    assert pair["source"] == "kuzmin2018+costanzo2016"
    assert pair["n_measurements"] == 2
    triple = rows["YAL015C+YBL007C+YOL043C"]
    assert math.isclose(triple["tau"], (-0.0951 - 0.25) / 2)
    assert triple["p_value"] == 0.012 and triple["source"] == "kuzmin2018"
    assert qc.counts["duplicate_rows_merged"] == 2


def test_arity_filter_and_universe(sources):
    table, qc = build_interactions(sources, universe=None, arities=(3,))
    assert (table["arity"] == 3).all() and len(table) == 2
    assert qc.counts["rows_other_arity"] == 4
    universe = {"YAL015C", "YBL007C", "YOL043C", "YAL001C", "YBL023C"}
    table, qc = build_interactions(sources, universe=universe)
    assert len(table) == 3
    assert qc.counts["kuzmin2018/rows_gene_outside_universe"] == 2
    with pytest.raises(InputFormatError, match=r"aao1729_data_s1.tsv:4: gene 'YAR002W' is not in"):
        build_interactions(sources, universe=universe, unknown_genes="error")


def test_same_kind_twice_gets_per_file_prefixes(sources, tmp_path):
    rows = pd.DataFrame([r.split("\t") for r in KUZMIN_ROWS], columns=KUZMIN2018_COLUMNS)
    for col in KUZMIN2018_COLUMNS[5:]:
        rows[col] = pd.to_numeric(rows[col].replace("", np.nan))
    rows.columns = KUZMIN2020_COLUMNS
    write_kuzmin2020_xlsx(rows.iloc[:2], tmp_path / "S1.xlsx")
    write_kuzmin2020_xlsx(rows.iloc[2:], tmp_path / "S3.xlsx", title="Table S3")
    table, qc = build_interactions(
        [("kuzmin2020", tmp_path / "S1.xlsx"), ("kuzmin2020", tmp_path / "S3.xlsx")],
        universe=None)
    assert qc.counts["kuzmin2020/S1.xlsx/rows_read"] == 2
    assert qc.counts["kuzmin2020/S3.xlsx/rows_read"] == 3
    assert len(table) == 4 and set(table["source"]) == {"kuzmin2020"}


def _write_truth(path: Path, rows: list[tuple[str, str, str, float]]) -> Path:
    lines = ["\t".join(TRUTH_COLUMNS)] + [f"{a}\t{b}\t{c}\t{v!r}" for a, b, c, v in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TRUTH = [
    ("YAL015C", "YBL007C", "", 0.0),
    ("YAL015C", "YBL007C", "YOL043C", -0.12),
    ("YAL048C", "YAR002W", "YML107C", -0.2),
    ("YAL048C", "YAR002W", "", 0.01),
    ("YAL001C", "YBL023C", "", -0.03),
    ("YAL001C", "YAL002W", "", 0.5),  # sets that were not kept are fine
]


def test_truth_join(sources, tmp_path):
    truth = _write_truth(tmp_path / "truth.tsv", TRUTH)
    table, qc = build_interactions(sources, universe=None, truth=truth)
    assert list(table.columns) == [*INTERACTION_COLUMNS, "tau_noise_free"]
    got = dict(zip(_as_dict(table), table["tau_noise_free"], strict=True))
    assert got == {"+".join(g for g in r[:3] if g): r[3] for r in TRUTH[:5]}
    assert str(truth) in qc.sources
    write_interactions(table, tmp_path / "interactions.parquet")


def test_truth_join_missing_set(sources, tmp_path):
    truth = _write_truth(tmp_path / "truth.tsv", TRUTH[:2] + TRUTH[3:])
    with pytest.raises(ValueError, match=r"YAL048C\+YAR002W\+YML107C"):
        build_interactions(sources, universe=None, truth=truth)


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        ([("YBL007C", "YAL015C", "", 0.0)], 2, "not sorted"),
        ([("YAL015C", "YBL007C", "", 0.0), ("YAL015C", "YBL007C", "", 0.1)], 3, "repeats"),
        ([("YAL015C", "YBL007C", "", float("nan"))], 2, "finite number"),
    ],
)
def test_read_truth_errors(tmp_path, rows, line, fragment):
    path = _write_truth(tmp_path / "truth.tsv", rows)
    with pytest.raises(InputFormatError, match=fr"truth.tsv:{line}: .*{fragment}"):
        read_truth(path)


def test_dcell_source_keeps_nan_p_values_and_prefers_real_ones(sources, tmp_path):
    dcell = tmp_path / "GO_x_training_data_2016_0"
    dcell.write_text("2 YAL015C YBL007C -0.9\n2 YLR035C YML060W 0.0447\n")
    table, _ = build_interactions([*sources, ("dcell_pairs", dcell)], universe=None)
    rows = _as_dict(table)
    # A measurement with a p-value beats one without (NaN sorts last).
    assert rows["YAL015C+YBL007C"]["source"] == "costanzo2016"
    assert rows["YAL015C+YBL007C"]["n_measurements"] == 3
    assert np.isnan(rows["YLR035C+YML060W"]["p_value"])


@pytest.mark.parametrize("rule", ["most_significant", "mean"])
def test_published_train_and_test_files_keep_their_roles(tmp_path, rule):
    train = tmp_path / "training"
    train.write_text("2 YAL015C YBL007C -0.9\n2 YLR035C YML060W 0.0447\n")
    test = tmp_path / "testing"
    test.write_text("2 YAL048C YAR002W 0.1\n2 YBL007C YAL015C -0.5\n")  # a set of both files
    table, qc = build_interactions([("dcell_train", train), ("dcell_test", test)],
                                   universe=None, duplicate_rule=rule)
    roles = dict(zip(table["gene_a"] + "+" + table["gene_b"], table["published_split"],
                     strict=True))
    assert roles == {"YAL015C+YBL007C": "test", "YLR035C+YML060W": "train",
                     "YAL048C+YAR002W": "test"}
    assert qc.counts["sets_in_published_train_and_test"] == 1
    path = tmp_path / "interactions.parquet"
    write_interactions(table, path)
    assert read_interactions(path)["published_split"].tolist() == table["published_split"].tolist()
    with pytest.raises(ValueError, match="come together"):
        build_interactions([("dcell_train", train)], universe=None)


def test_bad_arguments(sources):
    with pytest.raises(ValueError, match="unknown source kind"):
        build_interactions([("biogrid", Path("x"))], universe=None)
    with pytest.raises(ValueError, match="duplicate rule"):
        build_interactions(sources, universe=None, duplicate_rule="max")
    with pytest.raises(ValueError, match="arities"):
        build_interactions(sources, universe=None, arities=(4,))
    with pytest.raises(ValueError, match="no sources"):
        build_interactions([], universe=None)
    with pytest.raises(ValueError, match="unknown_genes"):
        build_interactions(sources, universe=None, unknown_genes="ignore")


def test_everything_filtered_gives_an_empty_canonical_table(sources, tmp_path):
    table, qc = build_interactions(sources, universe={"YPL001W"})
    assert list(table.columns) == INTERACTION_COLUMNS and len(table) == 0
    assert qc.counts["sets_kept"] == 0
    write_interactions(table, tmp_path / "empty.parquet")
