"""multigraph's training epoch at seed scale against DANGO's joint epoch, in the same run —
medians over repeated runs, each run in a fresh process.

    python bench/multigraph_epoch.py [--data bench/.data] [--repeats 3] [--threads 2]

Data: the seed-scale synthetic set of ``bench/seed_scale.py`` (6,607 genes, ~91k triples) with
its synthetic BioGRID, YEASTRACT and TFLink files and GEM, through the real CLI stages
(``parse network``, ``parse metabolism``, ``graphs build``). Setups, each one training epoch
(validation excluded) normalised to 91k triples:

- ``dango``: DANGO's joint epoch as the workflow trains it (``seed_scale.py joint``, setup
  ``fast``);
- ``multigraph string9.1``: the six STRING v9.1 channels, config defaults (batch 1,024);
- ``multigraph all graphs``: ``string9.1+physical+regulatory+tflink+metabolism`` (TorchCell's
  "TC_all_graphs"), with the metabolic relations.

multigraph is timed on ``--batches`` batches per epoch and extrapolated to the epoch. Rows are
printed and appended to ``bench/results.jsonl``; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed_scale  # noqa: E402  (the shared data preparation and timers)

CHANNELS = ("neighborhood", "fusion", "cooccurence", "coexpression", "experimental",
            "database")
SOURCES = {"biogrid": ("physical",), "regulation": ("regulatory",), "tflink": ("tflink",)}
GRAPH_SETS = {"string9.1": [f"string_v9.1_{c}" for c in CHANNELS],
              "all graphs": [f"string_v9.1_{c}" for c in CHANNELS]
              + ["physical", "regulatory", "tflink"]}


def prepare_networks(data: Path) -> None:
    """The other networks and the metabolism tables of the seed-scale data."""
    from geneint.data.synthetic.metabolism import GEM_FILE
    from geneint.data.synthetic.networks import (
        BIOGRID_FILE,
        REGULATION_FILE,
        TFLINK_FILE,
    )

    raw, processed = data / "raw", data / "processed"
    if (processed / "metabolism" / "gene_reaction.parquet").exists():
        return
    if not (raw / GEM_FILE).exists():  # data prepared before these sources existed
        seed_scale.geneint("synth", "--out", str(raw), "--seed", "0", "--scale", "seed")
    files = {"biogrid": BIOGRID_FILE, "regulation": REGULATION_FILE, "tflink": TFLINK_FILE}
    genes = str(processed / "genes.tsv")
    for source, networks in SOURCES.items():
        table = processed / "networks" / f"{source}.parquet"
        seed_scale.geneint("parse", "network", "--source", source, "--raw",
                           str(raw / files[source]), "--genes", genes, "--sgd-features",
                           str(raw / "sgd" / "SGD_features.tab"), "--out", str(table))
        for network in networks:
            seed_scale.geneint("graphs", "build", "--network", network, "--edges", str(table),
                               "--genes", genes, "--out",
                               str(processed / "graphs" / f"{network}.npz"))
    seed_scale.geneint("parse", "metabolism", "--gem", str(raw / GEM_FILE), "--genes", genes,
                       "--out", str(processed / "metabolism"))


def measure_multigraph(data: Path, graph_set: str, batches: int, epochs: int) -> dict:
    from geneint.train.data import InteractionDataModule
    from geneint.train.multigraph import (
        MultiGraphOptions,
        build_cell_graph,
        build_multigraph_module,
        describe,
    )

    processed = data / "processed"
    options = MultiGraphOptions.defaults(epochs=epochs)
    datamodule = InteractionDataModule(processed / "interactions.parquet",
                                       processed / "genes.tsv",
                                       processed / "splits" / "random.parquet", 0,
                                       batch_size=options.batch_size)
    datamodule.setup("fit")
    metabolism = processed / "metabolism" if graph_set == "all graphs" else None
    graph = build_cell_graph([processed / "graphs" / f"{n}.npz" for n in GRAPH_SETS[graph_set]],
                             datamodule.gene_names, metabolism)
    module = build_multigraph_module(datamodule, graph, options)
    timer = seed_scale.EpochTimer()
    trainer = seed_scale._trainer(epochs, timer, validate=False, limit_train_batches=batches)
    trainer.fit(module, datamodule=datamodule)
    train_sets = len(datamodule.sets["train"].tau)
    full = math.ceil(train_sets / options.batch_size)
    scale = seed_scale.SEED_TRIPLES / train_sets * (full / min(batches, full))
    return {"epoch_seconds": timer.seconds, "train_triples": train_sets,
            "epoch_seconds_91k": [s * scale for s in timer.seconds],
            "relations": len(graph.relations), "nodes": graph.num_nodes,
            "edges": sum(describe(graph)["edges"].values()),
            "parameters": sum(p.numel() for p in module.model.parameters())}


def run_child(data: Path, threads: int, graph_set: str, batches: int, epochs: int) -> dict:
    return seed_scale.run_script(__file__, "_child", "--data", str(data), "--threads",
                                 str(threads), "--graph-set", graph_set, "--batches",
                                 str(batches), "--epochs", str(epochs))


def main() -> None:
    parser = seed_scale.epoch_bench_parser(__doc__)
    parser.add_argument("--batches", type=int, default=20,
                        help="batches per epoch multigraph is timed on (then extrapolated)")
    parser.add_argument("--graph-set", choices=tuple(GRAPH_SETS))  # child only
    args = parser.parse_args()
    data = Path(args.data)
    if args.what == "_child":
        seed_scale.report_child(args.threads, lambda: measure_multigraph(
            data, args.graph_set, args.batches, args.epochs))
        return
    seed_scale.prepare(data, args.scale)
    prepare_networks(data)
    info = seed_scale.run_info(args)
    setups = {
        "dango": lambda: seed_scale.dango_epoch(data, args.threads, args.epochs),
        **{f"multigraph {name}": (lambda name=name: run_child(
            data, args.threads, name, args.batches, args.epochs)) for name in GRAPH_SETS},
    }
    rows = seed_scale.epoch_rows(setups, args.repeats,
                                 keep=("relations", "nodes", "edges",
                                                          "parameters"))
    for name in GRAPH_SETS:
        row = rows[f"multigraph {name}"]
        row["vs_dango"] = row["median"] / rows["dango"]["median"]
        print(f"multigraph {name}: {row['vs_dango']:.2f}x DANGO's epoch ({row['relations']} "
              f"relations, {row['edges']:,} edges, {row['parameters']:,} parameters)")
    seed_scale.write_rows(args.results, rows, info)


if __name__ == "__main__":
    main()
