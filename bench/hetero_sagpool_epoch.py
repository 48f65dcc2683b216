"""hetero_sagpool's training epoch at seed scale against DANGO's joint epoch, in the same run —
medians over repeated runs, each run in a fresh process.

    python bench/hetero_sagpool_epoch.py [--data bench/.data] [--repeats 3] [--threads 2]

Data: the seed-scale synthetic set of ``bench/seed_scale.py`` (6,607 genes, ~91k triples). The
cell graph is generated here at the size of the real graphs rather than taken from the
seed-scale synthetic networks (whose degrees top out at ~40): a physical network of 140,000
undirected pairs with a heavy-tailed degree distribution (Chung–Lu, degree ∝ rank^−0.6, the
largest hub ~2,900 partners; BioGRID 4.4's yeast physical set is of this order) and a
regulatory network of 200,000 TF → target edges from 200 TFs, the largest with ~3,500 targets
(YEASTRACT's documented associations are of this order). Setups, one training epoch each
(validation excluded), normalised to 91k triples:

- ``dango``: DANGO's joint epoch as the workflow trains it (``seed_scale.py joint``);
- ``hetero_sagpool khop1 flag, <=32 neighbours`` (the default sample: 1-hop, genes flagged,
  at most 32 neighbours per gene), and the same through every neighbour (hubs included);
- ``hetero_sagpool whole flag``: TorchCell's whole-genome sample, one 6,607-node graph per set
  (batches of 8).

Each hetero_sagpool setup is timed on ``--batches`` batches (``--whole-batches`` for the
whole-genome one, whose batches are also smaller) and extrapolated to the epoch. Rows are
printed and appended to ``bench/results.jsonl``; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed_scale  # noqa: E402  (the shared data preparation and timers)

SETUPS = {"khop1 flag, <=32 neighbours": {"scope": "khop", "hops": 1, "perturbed": "flag",
                                          "neighbours": 32},
          "khop1 flag, every neighbour": {"scope": "khop", "hops": 1, "perturbed": "flag",
                                          "neighbours": 0},
          "whole flag": {"scope": "whole", "hops": 1, "perturbed": "flag", "batch_size": 8}}
PHYSICAL_PAIRS, REGULATORY_EDGES, TFS = 140_000, 200_000, 200


def real_size_graph(num_genes: int, seed: int = 0):
    """The benchmark's cell graph (module docstring), deterministic."""
    import torch

    from geneint.graphs.perturbation import CellGraph

    g = torch.Generator().manual_seed(seed)
    weight = torch.arange(1, num_genes + 1, dtype=torch.float64) ** -0.6
    weight = weight[torch.randperm(num_genes, generator=g)]
    ends = torch.multinomial(weight, 2 * int(PHYSICAL_PAIRS * 1.4), replacement=True,
                             generator=g).view(2, -1)
    ends = ends[:, ends[0] != ends[1]]
    pairs = torch.unique(torch.sort(ends, dim=0).values, dim=1)[:, :PHYSICAL_PAIRS]
    physical = torch.cat([pairs, pairs.flip(0)], dim=1)
    tfs = torch.randperm(num_genes, generator=g)[:TFS]
    tf_weight = torch.arange(1, TFS + 1, dtype=torch.float64) ** -0.3
    regulatory = torch.stack([
        tfs[torch.multinomial(tf_weight, int(REGULATORY_EDGES * 1.5), replacement=True,
                              generator=g)],
        torch.randint(0, num_genes, (int(REGULATORY_EDGES * 1.5),), generator=g)])
    regulatory = torch.unique(regulatory[:, regulatory[0] != regulatory[1]],
                              dim=1)[:, :REGULATORY_EDGES]
    edges = {"physical": physical, "regulatory": regulatory,
             "regulatory_reverse": regulatory.flip(0)}
    return CellGraph.from_relations(num_genes, edges)


def measure(data: Path, setup: str, batches: int, epochs: int) -> dict:
    import torch

    from geneint.graphs.perturbation import perturbed_samples
    from geneint.train.data import InteractionDataModule
    from geneint.train.hetero_sagpool import HeteroSAGPoolOptions, build_module

    processed = data / "processed"
    sample = dict(SETUPS[setup])
    options = HeteroSAGPoolOptions.defaults(epochs=epochs, **sample)
    datamodule = InteractionDataModule(processed / "interactions.parquet",
                                       processed / "genes.tsv",
                                       processed / "splits" / "random.parquet", 0,
                                       batch_size=options.batch_size)
    datamodule.setup("fit")
    graph = real_size_graph(len(datamodule.gene_names))
    module = build_module(datamodule, graph, options)
    train = datamodule.sets["train"]
    probe = perturbed_samples(graph, train.genes[:256], train.mask[:256], options.scope,
                              options.hops, options.perturbed, options.neighbours)
    timer = seed_scale.EpochTimer()
    trainer = seed_scale._trainer(epochs, timer, validate=False, limit_train_batches=batches,
                                  gradient_clip_val=options.gradient_clip)
    trainer.fit(module, datamodule=datamodule)
    train_sets = len(train.tau)
    full = math.ceil(train_sets / options.batch_size)
    scale = seed_scale.SEED_TRIPLES / train_sets * (full / min(batches, full))
    degree = torch.bincount(graph.edge_index[0], minlength=graph.num_genes)
    return {"epoch_seconds": timer.seconds, "train_triples": train_sets,
            "epoch_seconds_91k": [s * scale for s in timer.seconds],
            "batch_size": options.batch_size, "batches_timed": min(batches, full),
            "edges": int(graph.edge_index.size(1)), "max_degree": int(degree.max()),
            "nodes_per_sample": len(probe.gene) / probe.num_samples,
            "edges_per_sample": probe.edge_index.size(1) / probe.num_samples,
            "parameters": sum(p.numel() for p in module.model.parameters())}


def run_child(data: Path, threads: int, setup: str, batches: int, epochs: int) -> dict:
    return seed_scale.run_script(__file__, "_child", "--data", str(data), "--threads",
                                 str(threads), "--setup", setup, "--batches", str(batches),
                                 "--epochs", str(epochs))


def main() -> None:
    parser = seed_scale.epoch_bench_parser(__doc__)
    parser.add_argument("--batches", type=int, default=40,
                        help="batches per epoch a k-hop setup is timed on (then extrapolated)")
    parser.add_argument("--whole-batches", type=int, default=3,
                        help="batches the whole-genome setup is timed on")
    parser.add_argument("--setup", choices=tuple(SETUPS))  # child only
    parser.add_argument("--setups", nargs="*", default=list(SETUPS), choices=tuple(SETUPS),
                        help="the hetero_sagpool setups to run")
    args = parser.parse_args()
    data = Path(args.data)
    if args.what == "_child":
        seed_scale.report_child(args.threads, lambda: measure(data, args.setup, args.batches,
                                                              args.epochs))
        return
    seed_scale.prepare(data, args.scale)
    info = seed_scale.run_info(args)
    setups = {"dango": lambda: seed_scale.dango_epoch(data, args.threads, args.epochs)}
    for name in args.setups:
        batches = args.whole_batches if name.startswith("whole") else args.batches
        setups[f"hetero_sagpool {name}"] = (
            lambda name=name, batches=batches: run_child(data, args.threads, name, batches,
                                                         args.epochs))
    rows = seed_scale.epoch_rows(setups, args.repeats,
                                 keep=("edges", "max_degree", "nodes_per_sample",
                                       "edges_per_sample", "batch_size", "parameters"))
    for name in args.setups:
        row = rows[f"hetero_sagpool {name}"]
        row["vs_dango"] = row["median"] / rows["dango"]["median"]
        print(f"hetero_sagpool {name}: {row['vs_dango']:.2f}x DANGO's epoch "
              f"({row['nodes_per_sample']:.0f} nodes and {row['edges_per_sample']:.0f} edges "
              f"per sample; graph {row['edges']:,} edges, largest hub {row['max_degree']:,})")
    seed_scale.write_rows(args.results, rows, info)


if __name__ == "__main__":
    main()
