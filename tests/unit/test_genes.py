"""Gene universe: SGD_features.tab reader/writer and the universe modes."""

from __future__ import annotations

import pandas as pd
import pytest

from geneint.data.files import InputFormatError, QCReport, is_orf
from geneint.data.genes import (
    build_gene_universe,
    read_sgd_features,
    write_sgd_features,
)

ROW = ("S000002143\tORF\tDubious\tYAL069W\t\t\tchromosome 1\t\t1\t335\t649\tW\t\t1996-07-31\t"
       "1996-07-31\tDubious open reading frame")


def sgd_line(sgdid, ftype, qualifier, gene, name=""):
    return "\t".join([sgdid, ftype, qualifier, gene, name, "", "chromosome 1", "", "1", "1",
                      "9", "W", "", "2011-02-03", "2011-02-03", "desc"])


def test_reads_orfs_and_counts_other_features(tmp_path):
    path = tmp_path / "SGD_features.tab"
    path.write_text("\n".join([
        ROW,
        sgd_line("S1", "ORF", "Verified", "YAL001C", "TFC3"),
        sgd_line("S2", "ARS", "", "ARS102"),
        sgd_line("S3", "ORF", "Uncharacterized", "YAL064C-A"),
    ]) + "\n")
    qc = QCReport(path)
    genes = read_sgd_features(path, qc=qc)
    assert genes["gene"].tolist() == ["YAL069W", "YAL001C", "YAL064C-A"]
    assert genes.loc[1, "standard_name"] == "TFC3"
    assert qc.counts["rows_other_feature_type"] == 1
    no_dubious = read_sgd_features(path, qualifiers=("Verified", "Uncharacterized"), qc=qc)
    assert "YAL069W" not in set(no_dubious["gene"])
    assert qc.counts["genes_qualifier_Dubious_dropped"] == 1


@pytest.mark.parametrize(
    "line, problem",
    [
        (ROW.rsplit("\t", 1)[0], "expected 16 tab-separated columns, found 15"),
        (sgd_line("S9", "ORF", "Verified", "NOTAGENE"), "unknown gene: 'NOTAGENE'"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, line, problem):
    path = tmp_path / "SGD_features.tab"
    path.write_text(ROW + "\n" + line + "\n")
    with pytest.raises(InputFormatError, match=rf"SGD_features.tab:2: {problem}"):
        read_sgd_features(path)


def test_duplicate_gene_is_an_error(tmp_path):
    path = tmp_path / "SGD_features.tab"
    path.write_text(ROW + "\n" + ROW + "\n")
    with pytest.raises(InputFormatError, match=r":2: gene YAL069W repeats line 1"):
        read_sgd_features(path)


def test_writer_round_trips(tmp_path):
    frame = pd.DataFrame({
        "gene": ["YAL001C", "YBR123W"], "standard_name": ["TFC3", "ABC1"],
        "qualifier": ["Verified", "Dubious"], "chromosome": [1, 2], "start": [10, 20],
        "stop": [99, 199], "strand": ["C", "W"], "description": ["a", "b"],
    })
    path = tmp_path / "SGD_features.tab"
    write_sgd_features(frame, path)
    back = read_sgd_features(path)
    pd.testing.assert_frame_equal(back, frame[["gene", "standard_name", "qualifier"]])


def test_universe_modes():
    sgd, string = ["YAL001C", "YAL002W"], ["YAL002W", "Q0045"]
    assert build_gene_universe("sgd", sgd, string) == ["YAL001C", "YAL002W"]
    assert build_gene_universe("string", None, string) == ["Q0045", "YAL002W"]
    assert build_gene_universe("intersection", sgd, string) == ["YAL002W"]
    assert build_gene_universe("union", sgd, string) == ["Q0045", "YAL001C", "YAL002W"]
    with pytest.raises(ValueError, match="needs the SGD features file"):
        build_gene_universe("union", None, string)
    with pytest.raises(ValueError, match="unknown gene universe mode"):
        build_gene_universe("all", sgd, string)
    # The networks' own gene list, isolated genes included; SGD and STRING files not needed.
    listed = ["YBR123C", "Q0045", "YAL001C"]
    assert build_gene_universe("network_genes", network_genes=listed) == sorted(listed)
    with pytest.raises(ValueError, match="gene list"):
        build_gene_universe("network_genes", sgd, string)


@pytest.mark.realdata
def test_real_sgd_features(shared_data):
    qc = QCReport("sgd")
    genes = read_sgd_features(shared_data / "sgd" / "SGD_features.tab", qc=qc)
    assert len(genes) == 6604
    assert genes["qualifier"].value_counts().to_dict() == {
        "Verified": 5155, "Dubious": 746, "Uncharacterized": 699, "Verified|silenced_gene": 4}
    assert all(is_orf(g) for g in genes["gene"])
    assert qc.counts["rows_read"] == 16454
    gene_file = shared_data / "string_v9.1_partial" / "yeast_string_genes.txt"
    string_genes = gene_file.read_text().split()
    # 6,311 of DANGO's 6,400 STRING v9.1 genes are SGD ORFs (the rest are Ty element genes).
    assert len(build_gene_universe("intersection", genes["gene"], string_genes)) == 6311
