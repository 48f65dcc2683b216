"""The synthetic data set: reproducible bytes, readable by every reader, and a planted signal
that a graph model can learn but a gene-identity additive model cannot fully capture."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from geneint.data import synthetic
from geneint.data.canonical import STRING_CHANNELS
from geneint.data.files import HO_MARKER, QCReport, is_orf
from geneint.data.genes import read_sgd_features
from geneint.data.interactions import build_interactions
from geneint.data.kuzmin import KUZMIN2018_COLUMNS, read_kuzmin2018
from geneint.data.string import read_string_links
from geneint.data.synthetic import (
    CHANNEL_NAMES,
    GeneFactors,
    ScaleSpec,
    draw_factors,
    epsilon_noise_free,
    make_genes,
    pair_genes,
    pair_ids,
    sample_edges,
    synthesize,
    tau_noise_free,
)

DENSE_INFORMATIVE = ("coexpression", "experimental")
SPARSE_NOISY = ("fusion", "cooccurence")
#: Channels whose v11.0 gain among v9.1 zeros must exceed 1 % (DANGO λ = 0.1); the rest < 1 %.
GAINING = {"coexpression", "experimental", "neighborhood"}

TINY = ScaleSpec(n_genes=150, n_double_queries=10, n_single_queries=4, n_array_strains=50,
                 arrays_per_query=40, n_modules=4)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synthetic_demo_seed0")
    return out, synthesize(out, seed=0, scale="demo")


@pytest.fixture(scope="module")
def string_edges(demo: tuple[Path, dict]) -> dict[str, pd.DataFrame]:
    _, manifest = demo
    return {v: read_string_links(manifest["files"][f"string_v{v}"]) for v in ("9.1", "11.0")}


@pytest.fixture(scope="module")
def factors(demo: tuple[Path, dict]) -> tuple[list[str], GeneFactors]:
    _, manifest = demo
    table = pd.read_csv(manifest["files"]["truth_factors"], sep="\t")
    z = table[[c for c in table.columns if re.fullmatch(r"z\d+", c)]].to_numpy()
    return table["gene"].tolist(), GeneFactors(
        z=z, module=table["module"].to_numpy(), bias=table["bias"].to_numpy(),
        fitness=table["fitness"].to_numpy())


@pytest.fixture(scope="module")
def interactions(demo: tuple[Path, dict]) -> tuple[pd.DataFrame, QCReport]:
    _, manifest = demo
    universe = set(read_sgd_features(manifest["files"]["sgd_features"])["gene"])
    return build_interactions([("kuzmin2018", Path(manifest["files"]["kuzmin2018"]))],
                              universe, truth=Path(manifest["files"]["truth_tau"]))


@pytest.fixture(scope="module")
def trigenic_rows(demo: tuple[Path, dict]) -> pd.DataFrame:
    """Every trigenic measurement row with its noise-free τ."""
    _, manifest = demo
    rows = read_kuzmin2018(manifest["files"]["kuzmin2018"])
    truth = pd.read_csv(manifest["files"]["truth_tau"], sep="\t", keep_default_na=False)
    tri = rows[rows["arity"] == 3].merge(truth, on=["gene_a", "gene_b", "gene_c"], how="left")
    assert not tri["tau_noise_free"].isna().any()
    return tri


# --------------------------------------------------------------------------------------------
# Reproducibility and layout
# --------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(demo, tmp_path):
    out, _ = demo
    synthesize(tmp_path, seed=0, scale="demo")
    first, second = _files(out), _files(tmp_path)
    assert sorted(first) == sorted(second)
    assert len(first) == 13
    for name in first:
        assert first[name] == second[name], f"{name} differs between two runs with seed 0"


def test_different_seed_gives_different_files(demo, tmp_path):
    out, _ = demo
    synthesize(tmp_path, seed=1, scale="demo")
    first, second = _files(out), _files(tmp_path)
    for name in first:
        assert first[name] != second[name], f"{name} is the same for seeds 0 and 1"


def test_gzip_headers_carry_no_time(demo):
    _, manifest = demo
    for version in ("9.1", "11.0"):
        head = Path(manifest["files"][f"string_v{version}"]).read_bytes()[:10]
        assert head[:2] == b"\x1f\x8b"
        assert head[4:8] == b"\x00\x00\x00\x00"  # mtime


def test_manifest_lists_the_files(demo):
    out, manifest = demo
    on_disk = json.loads((out / "manifest.json").read_text())
    expected = {
        "string_v9.1": "string/4932.protein.links.detailed.v9.1.txt.gz",
        "string_v11.0": "string/4932.protein.links.detailed.v11.0.txt.gz",
        "kuzmin2018": "kuzmin2018/aao1729_data_s1.tsv",
        "sgd_features": "sgd/SGD_features.tab",
        "truth_tau": "truth/tau_noise_free.tsv",
        "truth_factors": "truth/gene_factors.tsv",
        "go_obo": "go/go-basic.obo",
        "sgd_gaf": "go/sgd.gaf.gz",
        "biogrid": "biogrid/BIOGRID-ORGANISM-Saccharomyces_cerevisiae_S288c-4.4.240.tab3.txt",
        "regulation": "regulation/RegulationTwoColumnTable_Documented_2013927.tsv.gz",
        "tflink": "tflink/TFLink_Saccharomyces_cerevisiae_interactions_All_simpleFormat_v1.0.tsv",
        "yeast_gem": "yeast_gem/yeast-GEM.xml",
    }
    assert on_disk["files"] == expected  # relative: the JSON does not depend on out_dir
    for key, rel in expected.items():
        assert Path(manifest["files"][key]) == out / rel
        assert (out / rel).is_file()
    assert on_disk["seed"] == 0 and on_disk["scale"] == "demo"
    assert on_disk["genes"]["n_genes"] == 600


def test_unknown_scale_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown scale"):
        synthesize(tmp_path, scale="huge")


def test_explicit_noise_sd_is_used(tmp_path):
    manifest = synthesize(tmp_path, seed=3, scale=TINY, noise_sd=0.01)
    assert manifest["signal"]["noise_sd"] == 0.01
    assert manifest["scale"] == "custom"
    assert manifest["signal"]["oracle_pearson_trigenic"] > 0.95


# --------------------------------------------------------------------------------------------
# Genes
# --------------------------------------------------------------------------------------------


def test_gene_names_look_real_and_reserve_ho():
    rng = np.random.default_rng(0)
    for n in (50, 600, 6607):
        genes = make_genes(n, rng)
        names = genes.names.tolist()
        assert len(names) == n == len(set(names))
        assert names == sorted(names)
        assert all(is_orf(g) for g in names)
        assert not any(g.startswith("YDL227") for g in names)
        named = [s for s in genes.standard_names.tolist() if s]
        assert len(named) == len(set(named)) and len(named) > 0.6 * n
        assert all(re.fullmatch(r"[A-Z]{3}\d+", s) for s in named)
    assert any("-" in g for g in names)  # a few -A names


def test_sgd_universe_contains_every_gene(demo, string_edges):
    _, manifest = demo
    sgd = read_sgd_features(manifest["files"]["sgd_features"])
    universe = set(sgd["gene"])
    assert len(sgd) == len(universe) == 601
    ho = sgd[sgd["gene"] == HO_MARKER]
    assert ho["standard_name"].tolist() == ["HO"]
    string_genes = set()
    for edges in string_edges.values():
        string_genes |= set(edges["gene_a"]) | set(edges["gene_b"])
    assert HO_MARKER not in string_genes
    assert string_genes == universe - {HO_MARKER}  # every demo gene has an edge
    rows = read_kuzmin2018(manifest["files"]["kuzmin2018"])
    screened = set(rows["gene_a"]) | set(rows["gene_b"]) | set(rows["gene_c"]) - {""}
    assert screened <= universe and HO_MARKER not in screened


# --------------------------------------------------------------------------------------------
# STRING
# --------------------------------------------------------------------------------------------


def test_pair_index_round_trip():
    n = 37
    i, j = np.triu_indices(n, 1)
    ids = pair_ids(i, j, n)
    assert np.array_equal(ids, np.arange(n * (n - 1) // 2))
    back_i, back_j = pair_genes(ids, n)
    assert np.array_equal(back_i, i) and np.array_equal(back_j, j)


def test_sample_edges_exact_count_exclusion_and_tilt():
    rng = np.random.default_rng(0)
    cosine = rng.uniform(-1, 1, 20_000).astype(np.float32)
    exclude = np.arange(0, 20_000, 2)
    edges = sample_edges(cosine, 1_000, 4.0, rng, exclude=exclude)
    assert len(edges) == len(np.unique(edges)) == 1_000
    assert not np.isin(edges, exclude).any()
    assert cosine[edges].mean() > 0.5  # weight exp(4 cos) favours similar pairs
    again = sample_edges(cosine, 1_000, 4.0, np.random.default_rng(5))
    assert np.array_equal(again, sample_edges(cosine, 1_000, 4.0, np.random.default_rng(5)))


def test_string_files_round_trip(demo, string_edges):
    _, manifest = demo
    targets = manifest["string"]["9.1"]["targets"]
    for version, edges in string_edges.items():
        counts = edges["channel"].value_counts()
        assert set(counts.index) == set(STRING_CHANNELS)
        assert counts.to_dict() == manifest["string"][version]["edges"]
        w = edges["weight"].to_numpy()
        assert (w > 0).all() and (w < 1).all()
    v9 = string_edges["9.1"]["channel"].value_counts()
    for channel in CHANNEL_NAMES:
        assert abs(v9[channel] - targets[channel]) <= 0.15 * targets[channel], channel
        assert targets[channel] == round(synthetic.CHANNELS[CHANNEL_NAMES.index(channel)]
                                         .seed_edges * 600 / 6607)


def test_every_row_meets_the_string_floor_and_both_directions(demo):
    _, manifest = demo
    for version in ("9.1", "11.0"):
        with gzip.open(manifest["files"][f"string_v{version}"], "rt") as fh:
            table = pd.read_csv(fh, sep=" ")
        assert table["combined_score"].min() >= synthetic.MIN_COMBINED_SCORE
        assert table.iloc[:, 2:].max().max() <= 999
        assert len(table) == 2 * manifest["string"][version]["pairs"]
        assert table["protein1"].str.startswith("4932.").all()


def test_newer_release_keeps_old_edges_and_gains_new_ones(demo, string_edges):
    _, manifest = demo
    n_genes = 600
    total = n_genes * (n_genes - 1) // 2
    old, new = (string_edges[v] for v in ("9.1", "11.0"))
    for channel in CHANNEL_NAMES:
        e9 = set(map(tuple, old.loc[old["channel"] == channel, ["gene_a", "gene_b"]].to_numpy()))
        e11 = set(map(tuple, new.loc[new["channel"] == channel, ["gene_a", "gene_b"]].to_numpy()))
        assert e9 <= e11, f"{channel}: v9.1 edges missing from v11.0"
        gained = len(e11 - e9) / (total - len(e9))
        assert gained == pytest.approx(
            manifest["string"]["11.0"]["gained_zero_fraction"][channel], abs=1e-6)
        if channel in GAINING:
            assert gained > 0.01, channel
        else:
            assert 0 < gained < 0.01, channel


def test_channel_edges_follow_factor_similarity(string_edges, factors):
    genes, fac = factors
    index = {g: i for i, g in enumerate(genes)}
    unit = fac.unit
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(genes), (2, 50_000))
    keep = a != b
    random_mean = float((unit[a[keep]] * unit[b[keep]]).sum(1).mean())
    means = {}
    edges = string_edges["9.1"]
    for channel in CHANNEL_NAMES:
        sub = edges[edges["channel"] == channel]
        ia, ib = sub["gene_a"].map(index).to_numpy(), sub["gene_b"].map(index).to_numpy()
        means[channel] = float((unit[ia] * unit[ib]).sum(1).mean())
        assert means[channel] > random_mean + 0.1, (channel, means[channel], random_mean)
    assert min(means[c] for c in DENSE_INFORMATIVE) > max(means[c] for c in SPARSE_NOISY) + 0.2


# --------------------------------------------------------------------------------------------
# Kuzmin screen
# --------------------------------------------------------------------------------------------


def test_kuzmin_file_parses_without_filtering(demo):
    _, manifest = demo
    universe = set(read_sgd_features(manifest["files"]["sgd_features"])["gene"])
    qc = QCReport(manifest["files"]["kuzmin2018"])
    rows = read_kuzmin2018(manifest["files"]["kuzmin2018"], universe=universe,
                           unknown_genes="error", qc=qc)
    counts = qc.counts
    assert counts["rows_read"] == counts["rows_kept"] == len(rows) == manifest["kuzmin2018"]["rows"]
    assert counts["rows_trigenic"] == manifest["kuzmin2018"]["trigenic_rows"] > 9_000
    assert counts["rows_digenic"] == manifest["kuzmin2018"]["digenic_rows"] > 2_000
    for key in ("rows_degenerate_gene_set", "rows_type_mismatch", "rows_gene_outside_universe"):
        assert counts[key] == 0


def test_kuzmin_columns_follow_the_published_conventions(demo, factors):
    _, manifest = demo
    raw = pd.read_csv(manifest["files"]["kuzmin2018"], sep="\t", dtype=str,
                      keep_default_na=False)
    assert list(raw.columns) == KUZMIN2018_COLUMNS
    query, qallele, array, aallele, kind = (raw[c] for c in KUZMIN2018_COLUMNS[:5])
    digenic = (kind == "digenic").to_numpy()
    assert query[digenic].str.fullmatch(r"Y\S+\+YDL227C_tm\d+").all()
    assert qallele[digenic].str.endswith("Δ+hoΔ").all()
    assert query[~digenic].str.fullmatch(r"Y\S+\+Y\S+_tm\d+").all()
    assert not query[~digenic].str.contains(HO_MARKER).any()
    assert qallele[~digenic].str.fullmatch(r"\S+Δ\+\S+Δ").all()
    dma = array.str.contains("_dma").to_numpy()
    assert array.str.fullmatch(r"Y\S+_(dma|tsa)\d+").all()
    assert 0.5 < dma.mean() < 1.0
    assert aallele[dma].str.endswith("Δ").all()
    assert aallele[~dma].str.fullmatch(r"\S+-\d+").all()
    assert raw.iloc[:, 7].str.fullmatch(r"\d\.\d\dE[+-]\d\d").all()  # like 4.50E-01

    values = raw.iloc[:, 5:].astype(float)
    rawe, adjusted, p, query_fit, array_fit, combined, sd = (values[c].to_numpy()
                                                           for c in KUZMIN2018_COLUMNS[5:])
    assert np.array_equal(rawe[digenic], adjusted[digenic])
    assert ((p >= 0) & (p <= 1)).all() and (sd > 0).all()
    assert ((query_fit > 0) & (array_fit >= 0.6) & (array_fit <= 1.05)).all()
    np.testing.assert_allclose(combined, query_fit * array_fit + rawe, atol=1e-4)
    assert (combined < 0).sum() == manifest["kuzmin2018"]["rows_negative_combined_fitness"]
    assert (combined < 0).mean() < 0.01

    # raw ε = τ + ε_ik + ε_jk on trigenic rows (the published identity), ε from the factors
    genes, fac = factors
    index = {g: i for i, g in enumerate(genes)}
    tri = ~digenic
    q = query[tri].str.partition("_")[0].str.partition("+")
    i, j = q[0].map(index).to_numpy(), q[2].map(index).to_numpy()
    k = array[tri].str.partition("_")[0].map(index).to_numpy()
    expected = adjusted[tri] + epsilon_noise_free(fac, i, k) + epsilon_noise_free(fac, j, k)
    np.testing.assert_allclose(rawe[tri], expected, atol=2e-4)
    np.testing.assert_allclose(query_fit[tri], fac.fitness[i] * fac.fitness[j]
                               + epsilon_noise_free(fac, i, j), atol=2e-4)


def test_truth_joins_every_gene_set(demo, interactions):
    _, manifest = demo
    table, _ = interactions
    truth = pd.read_csv(manifest["files"]["truth_tau"], sep="\t", keep_default_na=False)
    assert list(truth.columns) == synthetic.TRUTH_HEADER
    assert len(table) == len(truth)
    assert not table["tau_noise_free"].isna().any()
    k = manifest["kuzmin2018"]
    assert int((table["arity"] == 3).sum()) == k["unique_trigenic_sets"]
    assert int((table["arity"] == 2).sum()) == k["unique_digenic_sets"]
    repeated = table[table["n_measurements"] > 1]
    assert int((repeated["arity"] == 3).sum()) == k["repeated_trigenic_sets"] >= 1
    assert int((repeated["arity"] == 2).sum()) == k["repeated_digenic_sets"]


def test_repeated_sets_share_their_noise_free_tau(trigenic_rows):
    counts = trigenic_rows.groupby(["gene_a", "gene_b", "gene_c"])["tau"].agg(["size", "nunique"])
    repeated = counts[counts["size"] > 1]
    assert len(repeated) >= 1
    assert (repeated["nunique"] == repeated["size"]).all()  # observations differ
    per_set = trigenic_rows.groupby(["gene_a", "gene_b", "gene_c"])["tau_noise_free"].nunique()
    assert (per_set == 1).all()


def test_tau_is_a_function_of_the_gene_set():
    rng = np.random.default_rng(0)
    fac = draw_factors(40, rng)
    triples = np.stack([rng.choice(40, 3, replace=False) for _ in range(200)])
    reference = tau_noise_free(fac, triples)
    for perm in itertools.permutations(range(3)):
        np.testing.assert_allclose(tau_noise_free(fac, triples[:, perm]), reference, atol=1e-12)
    np.testing.assert_allclose(epsilon_noise_free(fac, triples[:, 0], triples[:, 1]),
                               epsilon_noise_free(fac, triples[:, 1], triples[:, 0]))


# --------------------------------------------------------------------------------------------
# The planted signal
# --------------------------------------------------------------------------------------------


def test_tau_distribution_resembles_kuzmin(trigenic_rows):
    tau = trigenic_rows["tau_noise_free"].to_numpy()
    assert np.median(np.abs(tau)) < 0.01
    assert 0.02 <= (tau < -0.05).mean() <= 0.12
    assert tau.min() < -0.3 and tau.max() <= 1.0


def test_oracle_pearson(demo, trigenic_rows):
    _, manifest = demo
    r = np.corrcoef(trigenic_rows["tau"], trigenic_rows["tau_noise_free"])[0, 1]
    assert 0.75 <= r <= 0.9
    assert r == pytest.approx(manifest["signal"]["oracle_pearson_trigenic"], abs=1e-3)


def _additive_pearson(rows: pd.DataFrame, seed: int = 0) -> float:
    """Least squares on one-hot gene indicators (τ ≈ b_i + b_j + b_k + c): fit on a random
    80 % of the trigenic rows, Pearson on the other 20 %."""
    genes = sorted(set(rows["gene_a"]) | set(rows["gene_b"]) | set(rows["gene_c"]))
    index = {g: i for i, g in enumerate(genes)}
    n = len(rows)
    cols = np.stack([rows[c].map(index).to_numpy() for c in ("gene_a", "gene_b", "gene_c")], 1)
    x = sp.csr_matrix((np.ones(3 * n), (np.repeat(np.arange(n), 3), cols.ravel())),
                      shape=(n, len(genes)))
    x = sp.hstack([x, np.ones((n, 1))]).tocsr()
    order = np.random.default_rng(seed).permutation(n)
    train, test = order[: int(0.8 * n)], order[int(0.8 * n):]
    y = rows["tau"].to_numpy()
    coef = lsqr(x[train], y[train], damp=0.1)[0]
    return float(np.corrcoef(x[test] @ coef, y[test])[0, 1])


def test_additive_gene_model_falls_clearly_short_of_the_oracle(trigenic_rows):
    oracle = np.corrcoef(trigenic_rows["tau"], trigenic_rows["tau_noise_free"])[0, 1]
    additive = _additive_pearson(trigenic_rows)
    # demo seed 0: additive ≈ 0.41, oracle ≈ 0.83
    assert 0.1 < additive < oracle - 0.25, (additive, oracle)


def test_channels_carry_the_trigenic_signal(string_edges, trigenic_rows):
    """Triples closed into a triangle by coexpression edges interact far more strongly than
    triples with no edge among them: the signal is reachable from the graphs alone."""
    edges = string_edges["9.1"]
    linked = set(map(tuple, edges.loc[edges["channel"] == "coexpression",
                                      ["gene_a", "gene_b"]].to_numpy()))
    a, b, c = (trigenic_rows[x].to_numpy() for x in ("gene_a", "gene_b", "gene_c"))
    n_edges = np.array([((x, y) in linked) + ((x, z) in linked) + ((y, z) in linked)
                        for x, y, z in zip(a, b, c, strict=True)])
    tau = trigenic_rows["tau"].to_numpy()
    assert (n_edges == 3).sum() > 50
    assert tau[n_edges == 3].mean() < tau[n_edges == 0].mean() - 0.05
    assert np.corrcoef(n_edges, tau)[0, 1] < -0.2
