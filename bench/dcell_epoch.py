"""DCell's training epoch at seed scale against DANGO's joint epoch, and the stratum-batched
DCell against the per-term loop — medians over repeated runs, each run in a fresh process.

    python bench/dcell_epoch.py [--data bench/.data] [--repeats 3] [--threads 2]

Data: the seed-scale synthetic set of ``bench/seed_scale.py`` (6,607 genes, ~91k triples), plus
its synthetic GO (go-basic.obo + sgd.gaf.gz) through ``geneint parse ontology`` with the default
filters. Setups, each one training epoch (validation excluded) normalised to 91k triples:

- ``dango``: DANGO's joint epoch as the workflow trains it (``seed_scale.py joint``, setup
  ``fast``: sparse reconstruction, batch 1,024, 960 reconstruction genes per step);
- ``dcell``: :class:`~geneint.models.dcell.DCell` with the config's defaults (batch 800),
  timed on ``--dcell-batches`` batches per epoch and extrapolated to the epoch;
- ``dcell lua widths``: the same with the Lua demo's term widths (max(10, 0.2·genes));
- ``dcell per-term``: :class:`~geneint.models.dcell_reference.DCellPerTerm` (one Linear per
  term, a Python loop), timed on ``--per-term-batches`` batches and extrapolated likewise.

Also printed: the floating-point floor of a DCell epoch — 6 × (multiply-adds per set) × 91k
sets at this machine's measured matmul rate — the time no implementation of the same
architecture can beat here.

Rows are printed and appended to ``bench/results.jsonl``; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed_scale  # noqa: E402  (the shared data preparation and timers)


def prepare_ontology(data: Path) -> Path:
    """``ontology.json`` of the seed-scale data (the synthetic GO, default filters)."""
    processed, raw = data / "processed", data / "raw"
    out = processed / "ontology.json"
    if out.exists():
        return out
    if not (raw / "go" / "go-basic.obo").exists():  # data prepared before the GO existed
        seed_scale.geneint("synth", "--out", str(raw), "--seed", "0", "--scale", "seed")
    seed_scale.geneint("parse", "ontology", "--obo", str(raw / "go" / "go-basic.obo"),
                       "--gaf", str(raw / "go" / "sgd.gaf.gz"), "--genes",
                       str(processed / "genes.tsv"), "--out", str(out))
    return out


def measure_dcell(data: Path, per_term: bool, batches: int | None, epochs: int,
                  widths: str) -> dict:
    from geneint.data.ontology import read_ontology
    from geneint.models.dcell_reference import DCellPerTerm
    from geneint.train.data import InteractionDataModule
    from geneint.train.dcell import DCellOptions, build_dcell_module

    processed = data / "processed"
    options = DCellOptions.defaults(epochs=epochs)
    if widths == "lua":
        options.min_neurons, options.neuron_ratio = 10, 0.2
    datamodule = InteractionDataModule(processed / "interactions.parquet",
                                       processed / "genes.tsv",
                                       processed / "splits" / "random.parquet", 0,
                                       batch_size=options.batch_size)
    datamodule.setup("fit")
    ontology = read_ontology(processed / "ontology.json")
    module = build_dcell_module(datamodule, ontology, options)
    if per_term:
        module.model = DCellPerTerm(**module.hparams.model_config)
    timer = seed_scale.EpochTimer()
    extra = {"limit_train_batches": batches} if batches else {}
    trainer = seed_scale._trainer(epochs, timer, validate=False, **extra)
    trainer.fit(module, datamodule=datamodule)
    train_sets = len(datamodule.sets["train"].tau)
    full = math.ceil(train_sets / options.batch_size)
    scale = seed_scale.SEED_TRIPLES / train_sets * (full / min(batches or full, full))
    return {"epoch_seconds": timer.seconds, "train_triples": train_sets,
            "epoch_seconds_91k": [s * scale for s in timer.seconds],
            "terms": len(ontology), "genes": len(ontology.all_genes),
            "strata": len(ontology.strata()),
            "parameters": sum(p.numel() for p in module.model.parameters()),
            "multiply_adds_per_set": multiply_adds(module.hparams.model_config)}


def multiply_adds(config: dict) -> int:
    """Multiply-adds of one set through every term's Linear (no padding)."""
    widths = config["widths"]
    return sum(w * (sum(widths[c] for c in kids) + len(genes))
               for w, kids, genes in zip(widths, config["children"], config["genes"],
                                         strict=True))


def matmul_rate(threads: int) -> float:
    """FLOP/s of a (800 × 4864) @ (4864 × 1850) float32 matmul (DCell's largest term)."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(800, 4864), torch.randn(4864, 1850)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * 800 * 4864 * 1850 / statistics.median(times)


def run_child(data: Path, threads: int, *options: str) -> dict:
    return seed_scale.run_script(__file__, "_child", "--data", str(data), "--threads",
                                 str(threads), *options)


def main() -> None:
    parser = seed_scale.epoch_bench_parser(__doc__)
    parser.add_argument("--dcell-batches", type=int, default=30,
                        help="batches per epoch DCell is timed on (then extrapolated)")
    parser.add_argument("--per-term-batches", type=int, default=6,
                        help="batches the per-term loop is timed on (then extrapolated)")
    parser.add_argument("--widths", choices=("paper", "lua"), default="paper")  # child only
    parser.add_argument("--per-term", action="store_true")  # child only
    parser.add_argument("--batches", type=int, default=0)  # child only
    args = parser.parse_args()
    data = Path(args.data)
    if args.what == "_child":
        seed_scale.report_child(args.threads, lambda: measure_dcell(
            data, args.per_term, args.batches or None, args.epochs, args.widths))
        return
    seed_scale.prepare(data, args.scale)
    prepare_ontology(data)
    info = seed_scale.run_info(args)
    setups = {
        "dango": lambda: seed_scale.dango_epoch(data, args.threads, args.epochs),
        "dcell": lambda: run_child(data, args.threads, "--epochs", str(args.epochs),
                                   "--batches", str(args.dcell_batches)),
        "dcell lua widths": lambda: run_child(data, args.threads, "--epochs", str(args.epochs),
                                              "--batches", str(args.dcell_batches),
                                              "--widths", "lua"),
        "dcell per-term": lambda: run_child(data, args.threads, "--per-term", "--epochs", "2",
                                            "--batches", str(args.per_term_batches)),
    }
    rows = seed_scale.epoch_rows(setups, args.repeats,
                                 keep=("terms", "genes", "strata", "parameters",
                                                          "multiply_adds_per_set"))
    dcell = rows["dcell"]
    rate = matmul_rate(args.threads)
    for setup in ("dcell", "dcell lua widths"):
        row = rows[setup]
        row["vs_dango"] = row["median"] / rows["dango"]["median"]
        row["flop_floor_s"] = 6 * row["multiply_adds_per_set"] * seed_scale.SEED_TRIPLES / rate
        print(f"{setup}: {row['vs_dango']:.2f}x DANGO's epoch; floor at {rate / 1e9:.0f} "
              f"GFLOP/s: {row['flop_floor_s']:.0f} s ({row['multiply_adds_per_set'] / 1e6:.1f} M "
              f"multiply-adds per set, {row['parameters']:,} parameters)")
    dcell["per_term_speedup"] = rows["dcell per-term"]["median"] / dcell["median"]
    print(f"stratum-batched vs per-term loop: {dcell['per_term_speedup']:.1f}x faster; ontology "
          f"{dcell.get('terms')} terms over {dcell.get('genes')} genes, {dcell.get('strata')} "
          f"strata")
    seed_scale.write_rows(args.results, rows, info)


if __name__ == "__main__":
    main()
