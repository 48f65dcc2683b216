"""Splits: k-fold and gene hold-outs partition the sets as documented, seeded, saved as files."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from geneint.data.canonical import gene_set_frame, validate_interactions
from geneint.data.files import InputFormatError, qc_path_for
from geneint.data.splits import (
    SPLIT_COLUMNS,
    heldout_gene_count,
    interactions_checksum,
    make_split,
    read_split,
    write_split,
)

GENES = [f"YAL{i:03d}{'C' if i % 2 else 'W'}" for i in range(1, 31)]


def interactions(n_triples: int = 300, n_pairs: int = 40, seed: int = 0) -> pd.DataFrame:
    """A canonical table: ``n_triples`` distinct triples and ``n_pairs`` pairs, interleaved."""
    rng = np.random.default_rng(seed)
    triples = list(itertools.combinations(GENES, 3))
    pairs = list(itertools.combinations(GENES, 2))
    sets = [list(triples[i]) for i in rng.choice(len(triples), n_triples, replace=False)]
    sets += [list(pairs[i]) for i in rng.choice(len(pairs), n_pairs, replace=False)]
    sets = [sets[i] for i in rng.permutation(len(sets))]
    frame = gene_set_frame(sets)
    n = len(frame)
    frame["tau"] = rng.normal(0, 0.05, n)
    frame["p_value"] = rng.uniform(0, 1, n)
    frame["source"] = "synthetic"
    frame["n_measurements"] = np.ones(n, np.int32)
    validate_interactions(frame, "test")
    return frame


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return interactions()


def triple_ids(frame: pd.DataFrame) -> np.ndarray:
    return np.flatnonzero(frame["arity"].to_numpy() == 3)


def roles_of(split: pd.DataFrame, fold: int) -> dict[str, np.ndarray]:
    sub = split[split["fold"] == fold]
    return {role: np.sort(g["set_id"].to_numpy()) for role, g in sub.groupby("role")}


def genes_of(frame: pd.DataFrame, set_id: int) -> set[str]:
    return {g for g in frame.iloc[set_id][["gene_a", "gene_b", "gene_c"]] if g}


def test_fixture_is_what_it_says(table):
    assert len(table) == 340
    assert (table["arity"] == 3).sum() == 300 and (table["arity"] == 2).sum() == 40


# --- random k-fold ---------------------------------------------------------------------------

def test_random_kfold_partitions_the_triples(table):
    split, summary = make_split(table, "random", seed=1, folds=5, val_fraction=0.1)
    assert list(split.columns) == SPLIT_COLUMNS
    assert split["set_id"].dtype == np.int64 and split["fold"].dtype == np.int16
    ids = triple_ids(table)
    assert set(split["role"]) == {"train", "val", "test"}
    assert sorted(split["fold"].unique()) == [0, 1, 2, 3, 4]
    # every triple is tested in exactly one fold; folds are near-equal
    tests = split[split["role"] == "test"]
    assert np.array_equal(np.sort(tests["set_id"].to_numpy()), ids)
    assert tests["fold"].value_counts().tolist() == [60] * 5
    for fold in range(5):
        roles = roles_of(split, fold)
        train, val, test = roles["train"], roles["val"], roles["test"]
        assert not set(train) & set(val) and not set(train) & set(test)
        assert not set(val) & set(test)
        assert np.array_equal(np.sort(np.concatenate([train, val, test])), ids)
        assert len(val) == round(0.1 * (len(ids) - len(test))) == 24
        assert summary["roles"][fold] == {"train": 216, "val": 24, "test": 60}
    assert summary["kind"] == "random" and summary["seed"] == 1 and summary["sets"] == 300


def test_random_digenic_rows_get_no_role(table):
    split, _ = make_split(table, "random", seed=1, folds=3, arities=(3,))
    digenic = set(np.flatnonzero(table["arity"].to_numpy() == 2))
    assert not digenic & set(split["set_id"])
    # with arities (2, 3) every row gets a role in every fold
    split, summary = make_split(table, "random", seed=1, folds=3, arities=(2, 3))
    assert summary["sets"] == 340
    for fold in range(3):
        assert sorted(split.loc[split["fold"] == fold, "set_id"]) == list(range(340))


@pytest.mark.parametrize("val_fraction", [0.25, 0.5])
def test_random_val_fraction(table, val_fraction):
    split, _ = make_split(table, "random", seed=3, folds=4, val_fraction=val_fraction)
    for fold in range(4):
        roles = roles_of(split, fold)
        assert len(roles["val"]) == round(val_fraction * 225)
        assert len(roles["train"]) + len(roles["val"]) == 225
    # Training needs validation sets: a split without them is refused when it is made.
    with pytest.raises(ValueError, match="without training or validation sets"):
        make_split(table, "random", seed=3, folds=4, val_fraction=0.0)


def test_random_same_seed_same_split_different_seed_different(table):
    a, sa = make_split(table, "random", seed=7, folds=5)
    b, sb = make_split(table, "random", seed=7, folds=5)
    pd.testing.assert_frame_equal(a, b)
    assert sa == sb
    c, _ = make_split(table, "random", seed=8, folds=5)
    assert not a.equals(c)
    assert not np.array_equal(a.loc[a["role"] == "test", ["set_id", "fold"]].sort_values(
        "set_id").to_numpy(), c.loc[c["role"] == "test", ["set_id", "fold"]].sort_values(
        "set_id").to_numpy())


# --- gene hold-outs --------------------------------------------------------------------------

def test_gene1_split(table):
    split, summary = make_split(table, "gene1", seed=2, heldout_genes=4, validation="random")
    held = set(summary["heldout_genes"])
    assert len(held) == 4 and held <= set(GENES)
    assert set(split["fold"]) == {0}
    roles = roles_of(split, 0)
    assert set(roles) == {"train", "val", "test"}  # gene1 excludes nothing
    for sid in roles["test"]:
        assert genes_of(table, sid) & held
    for sid in np.concatenate([roles["train"], roles["val"]]):
        assert not genes_of(table, sid) & held
    # test is exactly the triples touching a held-out gene; all triples get one role
    expected_test = [s for s in triple_ids(table) if genes_of(table, s) & held]
    assert list(roles["test"]) == expected_test and len(expected_test) > 0
    everything = np.sort(np.concatenate(list(roles.values())))
    assert np.array_equal(everything, triple_ids(table))
    assert len(roles["val"]) == round(0.1 * (300 - len(expected_test)))


@pytest.mark.parametrize("kind", ["gene1", "gene2"])
def test_gene_splits_validate_on_heldout_validation_genes_by_default(table, kind):
    split, summary = make_split(table, kind, seed=2, heldout_genes=4 if kind == "gene1" else 12)
    held, val_genes = set(summary["heldout_genes"]), set(summary["validation_genes"])
    assert summary["validation"] == "heldout_genes" and val_genes and not held & val_genes
    roles = roles_of(split, 0)
    for sid in roles["val"]:
        assert genes_of(table, sid) & val_genes and not genes_of(table, sid) & held
    for sid in roles["train"]:  # training never sees a validation or test gene
        assert not genes_of(table, sid) & (val_genes | held)
    remaining = len(roles["train"]) + len(roles["val"])
    # genes are drawn until about val_fraction of the remaining sets are validation sets
    assert 0.1 * remaining <= len(roles["val"]) < 0.5 * remaining
    everything = np.sort(np.concatenate(list(roles.values())))
    assert np.array_equal(everything, triple_ids(table))
    again, _ = make_split(table, kind, seed=2, heldout_genes=4 if kind == "gene1" else 12)
    pd.testing.assert_frame_equal(split, again)
    with pytest.raises(ValueError, match="unknown validation"):
        make_split(table, kind, seed=2, validation="genes")


def test_gene2_split(table):
    split, summary = make_split(table, "gene2", seed=2, heldout_genes=12)
    held = set(summary["heldout_genes"])
    assert len(held) == 12
    roles = roles_of(split, 0)
    assert set(roles) == {"train", "val", "test", "excluded"}
    for sid in roles["test"]:
        assert genes_of(table, sid) <= held
    for sid in roles["excluded"]:
        assert genes_of(table, sid) & held and not genes_of(table, sid) <= held
    for sid in np.concatenate([roles["train"], roles["val"]]):
        assert not genes_of(table, sid) & held
    everything = np.sort(np.concatenate(list(roles.values())))
    assert np.array_equal(everything, triple_ids(table))  # each triple exactly one role
    assert summary["roles"][0]["test"] == len(roles["test"]) > 0


def test_gene_split_held_out_count_by_fraction_and_seed(table):
    _, by_fraction = make_split(table, "gene2", seed=2, heldout_genes=0.4)
    _, by_count = make_split(table, "gene2", seed=2, heldout_genes=12)
    assert len(by_fraction["heldout_genes"]) == 12
    assert by_fraction["heldout_genes"] == by_count["heldout_genes"]
    a, _ = make_split(table, "gene1", seed=5, heldout_genes=4)
    b, _ = make_split(table, "gene1", seed=5, heldout_genes=4)
    pd.testing.assert_frame_equal(a, b)


def test_gene_split_universe_is_genes_of_covered_arities():
    # a gene that appears only in a digenic row is never held out by a triple split
    frame = interactions(n_triples=60, n_pairs=0)
    used = set(frame[["gene_a", "gene_b", "gene_c"]].to_numpy().ravel()) - {""}
    _, summary = make_split(frame, "gene1", seed=0, heldout_genes=0.5)
    assert len(summary["heldout_genes"]) == round(0.5 * len(used))
    assert set(summary["heldout_genes"]) <= used


@pytest.mark.parametrize("n_genes, heldout, expected", [
    (30, 5, 5), (30, 1, 1), (30, 1.0, 1), (30, 29, 29), (30, 0.2, 6), (30, 0.5, 15),
    (6607, 40, 40), (6607, 0.1, 661),
])
def test_heldout_gene_count(n_genes, heldout, expected):
    assert heldout_gene_count(n_genes, heldout) == expected


@pytest.mark.parametrize("heldout", [0, 0.01, 30, 31, 0.99999, -1])
def test_heldout_gene_count_invalid(heldout):
    with pytest.raises(ValueError, match="cannot hold out"):
        heldout_gene_count(30, heldout)


def test_split_errors(table):
    with pytest.raises(ValueError, match="unknown split kind"):
        make_split(table, "gene3", seed=0)
    with pytest.raises(ValueError, match="too few to split"):
        make_split(interactions(n_triples=9, n_pairs=50), "random", seed=0)
    with pytest.raises(ValueError, match="at least 2 folds"):
        make_split(table, "random", seed=0, folds=1)
    # two held-out genes can never make a whole triple: gene2 has no test set
    with pytest.raises(ValueError, match="without test sets"):
        make_split(table, "gene2", seed=0, heldout_genes=2)
    with pytest.raises(ValueError, match="cannot hold out"):
        make_split(table, "gene1", seed=0, heldout_genes=30)


# --- split files -----------------------------------------------------------------------------

def test_write_read_split_round_trip(table, tmp_path):
    split, summary = make_split(table, "random", seed=4, folds=3)
    path = tmp_path / "splits" / "random_s4.parquet"
    write_split(split, summary, path)
    for fold in range(3):
        back = read_split(path, fold)
        expected = roles_of(split, fold)
        assert set(back) == {"train", "val", "test"}
        for role in back:
            assert back[role].dtype == np.int64
            assert np.array_equal(back[role], expected[role])
    saved = json.loads(qc_path_for(path).read_text())
    assert saved["kind"] == "random" and saved["sets"] == 300
    assert saved["roles"]["0"] == summary["roles"][0]
    with pytest.raises(InputFormatError, match="no fold 3"):
        read_split(path, 3)


def test_write_read_gene_split_keeps_excluded(table, tmp_path):
    split, summary = make_split(table, "gene2", seed=2, heldout_genes=12)
    path = tmp_path / "gene2.parquet"
    write_split(split, summary, path)
    back = read_split(path)
    expected = roles_of(split, 0)
    assert set(back) == {"train", "val", "test", "excluded"}
    for role in back:
        assert np.array_equal(back[role], expected[role])
    assert json.loads(qc_path_for(path).read_text())["heldout_genes"] == \
        summary["heldout_genes"]
    with pytest.raises(InputFormatError, match="no fold 1"):
        read_split(path, 1)


def test_a_split_refuses_interactions_it_was_not_made_from(table, tmp_path):
    split, summary = make_split(table, "random", seed=0, folds=3)
    path = tmp_path / "random.parquet"
    write_split(split, summary, path)
    assert json.loads(qc_path_for(path).read_text())["interactions_checksum"] == \
        interactions_checksum(table)
    back = read_split(path, 0, table)
    assert np.array_equal(back["test"], roles_of(split, 0)["test"])
    # New τ values keep every set id's meaning; reordered or other sets do not.
    read_split(path, 0, table.assign(tau=table["tau"] * 2))
    for changed in (table.iloc[::-1].reset_index(drop=True), table.iloc[1:]):
        with pytest.raises(InputFormatError, match="made from other interactions than i.parquet"):
            read_split(path, 0, changed, "i.parquet")
    # A split file written without the checksum (by hand or an older geneint) is refused.
    split.to_parquet(path)
    with pytest.raises(InputFormatError, match="records no interactions checksum"):
        read_split(path, 0, table)


def test_read_split_rejects_bad_files(tmp_path):
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"set_id": [0, 1], "fold": [0, 0]}).to_parquet(path)
    with pytest.raises(InputFormatError, match="missing column"):
        read_split(path)
    pd.DataFrame({"set_id": [0, 1], "fold": [0, 0], "role": ["train", "test"]}).to_parquet(path)
    with pytest.raises(InputFormatError, match="fold 0 has no val sets"):
        read_split(path)


def test_published_split_keeps_the_published_test_sets(table):
    published = table.assign(published_split=np.where(np.arange(len(table)) % 4 == 0, "test",
                                                      "train"))
    split, summary = make_split(published, "published", seed=0, val_fraction=0.2,
                                arities=(2, 3))
    roles = roles_of(split, 0)
    np.testing.assert_array_equal(roles["test"], np.flatnonzero(np.arange(len(table)) % 4 == 0))
    assert len(roles["val"]) == round(0.2 * (len(table) - len(roles["test"])))
    assert not set(roles["val"]) & set(roles["test"])
    with pytest.raises(ValueError, match="published train/test split"):
        make_split(table, "published", seed=0)
