"""`geneint screen`: every set enumerated once, scores equal direct model calls, top-k kept."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest
import torch
from demo_stages import prepare, pretrain_all, run, train_args

from geneint.data.canonical import read_gene_index
from geneint.evaluate.screen import SetScorer, TopK, iter_sets


@pytest.mark.parametrize("arity", [2, 3])
@pytest.mark.parametrize("chunk", [7, 1000])
def test_every_set_is_enumerated_once_in_order(arity, chunk):
    n = 23
    sets = torch.cat(list(iter_sets(n, arity, chunk)))
    assert sets.shape == (math.comb(n, arity), arity)
    assert bool((sets[:, 1:] > sets[:, :-1]).all())  # i < j (< k)
    assert len({tuple(s) for s in sets.tolist()}) == sets.shape[0]
    assert max(c.shape[0] for c in iter_sets(n, arity, chunk)) <= chunk


def test_top_k_keeps_the_largest_absolute_scores():
    top = TopK(3)
    sets = torch.arange(20).reshape(10, 2)
    scores = torch.tensor([0.1, -0.9, 0.3, 0.8, -0.2, 0.0, 0.5, -0.85, 0.05, 0.4])
    top.add(sets[:4], scores[:4])
    top.add(sets[4:], scores[4:])
    best, values = top.sorted()
    assert values.tolist() == pytest.approx([-0.9, -0.85, 0.8])
    assert best.tolist() == [[2, 3], [14, 15], [6, 7]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("screen")
    data = prepare(root, channels=("coexpression", "experimental"))
    pretrained = pretrain_all(data, epochs=2)
    run(*train_args(data, pretrained, root / "train", epochs=2))
    return data, root / "train" / "best.ckpt"


def test_screen_scores_equal_direct_model_calls(trained, tmp_path):
    data, checkpoint = trained
    genes = read_gene_index(data.genes)
    gene_set = tmp_path / "genes.txt"
    gene_set.write_text("\n".join(genes[10:40]) + "\n")
    out = tmp_path / "top.tsv"
    run("screen", "--checkpoint", str(checkpoint), "--genes", str(data.genes), "--graphs",
        *map(str, data.graphs), "--gene-set", str(gene_set), "--top-k", "5000",
        "--chunk-size", "1000", "--no-progress-bar", "--out", str(out))
    table = pd.read_csv(out, sep="\t")
    summary = json.loads((tmp_path / "top.tsv.json").read_text())
    assert summary["sets_scored"] == summary["sets_total"] == math.comb(30, 3) == len(table)
    assert table["tau_pred"].abs().is_monotonic_decreasing
    # The same sets scored directly by the trained module, in one batch.
    scorer = SetScorer(checkpoint, data.genes, data.graphs)
    index = {g: i for i, g in enumerate(genes)}
    sample = table.sample(200, random_state=0)
    sets = torch.tensor([[index[g] for g in row] for row in
                         sample[["gene_a", "gene_b", "gene_c"]].itertuples(index=False)])
    direct = scorer.module.predict_sets(sets, torch.ones_like(sets, dtype=torch.bool))
    torch.testing.assert_close(torch.tensor(sample["tau_pred"].to_numpy(), dtype=torch.float32),
                               direct.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # minutes on 2 cores: the full suite (CI) runs it
def test_compiled_scoring_equals_eager_for_full_and_short_chunks(trained):
    data, checkpoint = trained
    eager = SetScorer(checkpoint, data.genes, data.graphs)
    compiled = SetScorer(checkpoint, data.genes, data.graphs, compile_shape=(64, 3))
    assert compiled.compile_chunk == 64
    sets = next(iter_sets(90, 3, 64)) + 5
    for chunk in (sets, sets[:17]):  # a full chunk, and a short one (padded, no recompile)
        torch.testing.assert_close(compiled.score(chunk), eager.score(chunk),
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="compiled for 64"):
        compiled.score(torch.cat([sets, sets]))


def test_failed_compilation_falls_back_to_eager_and_says_why(trained, caplog, monkeypatch):
    import torch._dynamo
    import torch._inductor.config

    data, checkpoint = trained
    torch._dynamo.reset()  # no cached compilation from another test
    monkeypatch.setattr(torch._inductor.config.cpp, "cxx", (None, "/nonexistent/g++"))
    with caplog.at_level("WARNING", logger="geneint.evaluate.screen"):
        scorer = SetScorer(checkpoint, data.genes, data.graphs, compile_shape=(32, 3))
    torch._dynamo.reset()
    assert scorer.compile_chunk is None
    assert "torch.compile failed, scoring without it" in caplog.text
    sets = next(iter_sets(40, 3, 50))
    eager = SetScorer(checkpoint, data.genes, data.graphs)
    torch.testing.assert_close(scorer.score(sets), eager.score(sets))


def test_screen_stops_after_max_sets_and_keeps_top_k(trained, tmp_path):
    data, checkpoint = trained
    out = tmp_path / "top.parquet"
    run("screen", "--checkpoint", str(checkpoint), "--genes", str(data.genes), "--graphs",
        *map(str, data.graphs), "--top-k", "50", "--max-sets", "20000", "--chunk-size", "4096",
        "--no-progress-bar", "--out", str(out))
    table = pd.read_parquet(out)
    summary = json.loads((tmp_path / "top.parquet.json").read_text())
    assert len(table) == 50 and summary["sets_scored"] == 20000
    assert summary["sets_total"] == math.comb(summary["genes"], 3)


SCAN_PEAKS = """
import json, resource, torch
from geneint.evaluate.screen import scan

weights = torch.randn(700, generator=torch.Generator().manual_seed(0))
score = lambda sets: torch.sin(weights[sets].sum(1) * 7.0)  # cheap: 10M sets take seconds
peak_mb = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
few = scan(score, 700, 3, top_k=1000, chunk_size=1024, max_sets=250_000)
after_few = peak_mb()
many = scan(score, 700, 3, top_k=1000, chunk_size=1024, max_sets=10_000_000)
print(json.dumps({"after_few": after_few, "after_many": peak_mb(), "seen": many.seen,
                  "kept": len(many.scores)}))
"""


@pytest.mark.slow  # minutes on 2 cores: the full suite (CI) runs it
def test_scan_memory_does_not_grow_with_the_number_of_sets():
    """Memory is one chunk plus the running top k: scoring 40x more triples must not raise
    the peak RSS of a fresh process. A loop that kept every chunk's sets (3 int64 each)
    added 238 MB here."""
    proc = subprocess.run([sys.executable, "-c", SCAN_PEAKS], capture_output=True, text=True,
                          check=True)
    peaks = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"peak RSS {peaks['after_few']:.1f} MB after 250k sets, "
          f"{peaks['after_many']:.1f} MB after 10M")
    assert peaks["seen"] == 10_000_000 and peaks["kept"] == 1000
    assert peaks["after_many"] - peaks["after_few"] < 20, peaks
