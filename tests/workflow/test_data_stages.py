"""The data stages of the workflow, run for real by Snakemake on the synthetic demo."""

from __future__ import annotations

import json

import pytest

from geneint.data.tables import read_edges, read_gene_index, read_interactions

pytestmark = pytest.mark.slow


def test_demo_data_stages_run_and_produce_canonical_tables(workflow_copy, snakemake):
    snakemake(workflow_copy, "--cores", "2")
    processed = workflow_copy / "data" / "processed"
    genes = read_gene_index(processed / "genes.tsv")
    interactions = read_interactions(processed / "interactions.parquet")
    assert set(interactions["arity"]) == {2, 3}
    assert interactions["tau_noise_free"].notna().all()
    used = set(interactions[["gene_a", "gene_b"]].to_numpy().ravel())
    assert used <= set(genes)
    for release in ("9.1", "11.0"):
        edges = read_edges(processed / "string" / f"v{release}.parquet")
        assert set(edges["channel"]) == {"neighborhood", "fusion", "cooccurence",
                                         "coexpression", "experimental", "database"}
    qc = json.loads((processed / "interactions.parquet.qc.json").read_text())
    assert qc["counts"]["sets_kept"] == len(interactions)
    assert (workflow_copy / "logs" / "data" / "parse_interactions.log").exists()

    # Nothing is stale: a second run does nothing.
    again = snakemake(workflow_copy, "--cores", "2")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_a_bad_config_value_is_rejected_before_any_job(workflow_copy, snakemake):
    proc = snakemake(workflow_copy, "-n", "--config", "genes={'universe': 'everything'}",
                     check=False)
    assert proc.returncode != 0
    assert "everything" in proc.stdout + proc.stderr


def test_real_data_dag_builds_offline(workflow_copy, snakemake):
    proc = snakemake(workflow_copy, "-n", "--configfile", "config/real.yaml")
    out = proc.stdout + proc.stderr
    for source in ("string_v9.1", "string_v12.0", "kuzmin2018", "kuzmin2020_s1", "sgd_features"):
        assert f"source={source}" in out
    assert "will be refused" in out  # unpinned downloads are announced at parse time
