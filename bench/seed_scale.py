"""Seed-scale benchmarks: pretraining and joint-training epoch times, screening throughput,
peak memory — medians over repeated runs, each run in a fresh process.

    python bench/seed_scale.py all [--data bench/.data] [--repeats 3] [--threads 2]
    python bench/seed_scale.py pretrain-convergence   # loss against training time
    python bench/seed_scale.py joint --setups "fast all genes"   # one setup only

Data: ``geneint synth --scale seed`` (6,607 genes, six STRING v9.1 channels, ~91k Kuzmin-2018-
format triples), prepared once through the real CLI stages into ``--data``. Every figure is
printed as a table row and appended to ``bench/results.jsonl`` (with the machine);
``docs/benchmarks.md`` quotes them. Setups:

- ``pretrain``: one epoch over all genes of one network (the figure is the sum over the six
  networks); ``plain`` = dense reconstruction in batches of 96 genes (DANGO's setting), ``fast`` =
  the exact sparse closed form over all genes per step.
- ``joint``: one training epoch (validation excluded) over all triples of the training set,
  normalised to 91k triples; ``plain`` = dense reconstruction, ``fast`` = sparse, both with 960
  reconstruction genes per step; ``fast all genes`` reconstructs every gene's rows every step.
- ``screen``: triples/s of ``geneint screen`` on the 1,400 genes of the Kuzmin screen, measured
  on a prefix of the enumeration and extrapolated to all C(1400, 3) triples; eager, and with
  ``--compile``.
- ``pretrain-convergence`` (not in ``all``): reconstruction loss over all rows of coexpression
  against training time, per batch size and learning rate, for a fixed wall time each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback

HERE = Path(__file__).resolve().parent
CHANNELS = ("neighborhood", "fusion", "cooccurence", "coexpression", "experimental", "database")
LAMBDA = {"coexpression": 0.1, "experimental": 0.1, "neighborhood": 1.0, "fusion": 1.0,
          "cooccurence": 1.0, "database": 1.0}
SEED_TRIPLES = 91_000  # trigenic rows of --scale seed: 182 double-mutant queries × 500 arrays
ALL_GENES = 1_000_000  # as a batch size or a gene count: every gene, at any scale

SETUPS = {
    "pretrain": {"plain": {"recon_impl": "dense", "batch_size": 96},
                 "fast": {"recon_impl": "sparse", "batch_size": ALL_GENES}},
    "joint": {"plain": {"recon_impl": "dense", "batch_size": 1024, "recon_genes": 960},
              "fast": {"recon_impl": "sparse", "batch_size": 1024, "recon_genes": 960},
              # every gene's rows reconstructed in every step: exact instead of sampled
              "fast all genes": {"recon_impl": "sparse", "batch_size": 1024,
                                 "recon_genes": ALL_GENES}},
}


def geneint(*argv: str) -> None:
    from geneint.cli import main

    if main(list(argv)) != 0:
        raise SystemExit(f"geneint {' '.join(argv)} failed")


def prepare(data: Path, scale: str = "seed") -> None:
    """Synthetic data of a scale through the real stages (skipped when already there)."""
    done = data / "prepared.json"
    if done.exists():
        return
    raw, processed = data / "raw", data / "processed"
    geneint("synth", "--out", str(raw), "--seed", "0", "--scale", scale)
    edges = processed / "string" / "v9.1.parquet"
    geneint("parse", "string", "--raw",
            str(raw / "string" / "4932.protein.links.detailed.v9.1.txt.gz"), "--out", str(edges))
    genes = processed / "genes.tsv"
    geneint("genes", "--sgd", str(raw / "sgd" / "SGD_features.tab"), "--string", str(edges),
            "--universe", "sgd", "--out", str(genes))
    interactions = processed / "interactions.parquet"
    geneint("parse", "interactions", "--kuzmin2018", str(raw / "kuzmin2018" /
                                                         "aao1729_data_s1.tsv"),
            "--genes", str(genes), "--arities", "3", "--out", str(interactions))
    geneint("split", "--interactions", str(interactions), "--kind", "random", "--seed", "0",
            "--folds", "20", "--val-fraction", "0.02", "--out",
            str(processed / "splits" / "random.parquet"))
    for channel in CHANNELS:
        geneint("graphs", "build", "--network", f"string_v9.1_{channel}", "--edges", str(edges),
                "--releases", "9.1", "--genes", str(genes), "--lambda-config",
                *(f"{k}={v}" for k, v in LAMBDA.items()),
                "--out", str(processed / "graphs" / f"string_v9.1_{channel}.npz"))
    done.write_text(json.dumps({"prepared": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")


# --- one measurement per process ---------------------------------------------------------
class EpochTimer(Callback):
    """Wall time of each training epoch (validation excluded)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def _trainer(epochs: int, timer, validate: bool, **options):
    import lightning as L

    return L.Trainer(accelerator="cpu", devices=1, max_epochs=epochs, callbacks=[timer],
                     logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0,
                     limit_val_batches=1.0 if validate else 0, **options)


def pretrainer(num_genes: int, lam: float, **kwargs):
    """The pretraining module of one network with the default architecture."""
    from geneint.models.dango import Dango
    from geneint.train.dango import DangoArchitecture
    from geneint.train.pretrain import NetworkPretrainer

    config = DangoArchitecture("spec", 64).config(num_genes, 1)
    return NetworkPretrainer(Dango(**config), config, lam=lam, embedding_seed=0, **kwargs)


def measure_pretrain(data: Path, channel: str, recon_impl: str, batch_size: int,
                     epochs: int) -> dict:
    from geneint.data.canonical import read_gene_index
    from geneint.graphs.network import read_graph
    from geneint.train.data import GeneDataModule

    genes = read_gene_index(data / "processed" / "genes.tsv")
    graph = read_graph(data / "processed" / "graphs" / f"string_v9.1_{channel}.npz", genes)
    module = pretrainer(len(genes), graph.lam, recon_impl=recon_impl, max_epochs=epochs)
    module.attach_graph(graph)
    timer = EpochTimer()
    _trainer(epochs, timer, validate=False).fit(module, GeneDataModule(len(genes), batch_size))
    return {"epoch_seconds": timer.seconds, "edges": int(graph.edge_index.shape[1])}


class FullReconstructionLoss(EpochTimer):
    """After each training epoch: training time so far (evaluation excluded) and the
    reconstruction loss over all genes' rows, the quantity pretraining minimises."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[tuple[float, float]] = []

    def on_train_epoch_end(self, trainer, module) -> None:
        import torch

        from geneint.train.reconstruction import reconstruction_loss

        super().on_train_epoch_end(trainer, module)
        rows = torch.arange(module.hparams.model_config["num_genes"])
        with torch.no_grad():
            loss = reconstruction_loss(module.model.recon_heads[0], module.node_embeddings(),
                                       module.graph().targets[0], rows, module.hparams.lam)
        self.points.append((sum(self.seconds), float(loss)))


def measure_pretrain_convergence(data: Path, channel: str, batch_size: int, lr: float,
                                 seconds: int) -> dict:
    import lightning as L

    from geneint.data.canonical import read_gene_index
    from geneint.graphs.network import read_graph
    from geneint.train.data import GeneDataModule

    L.seed_everything(0, verbose=False)
    genes = read_gene_index(data / "processed" / "genes.tsv")
    graph = read_graph(data / "processed" / "graphs" / f"string_v9.1_{channel}.npz", genes)
    module = pretrainer(len(genes), graph.lam, lr=lr, max_epochs=100_000)
    module.attach_graph(graph)
    curve = FullReconstructionLoss()
    trainer = _trainer(100_000, curve, validate=False, max_time={"seconds": seconds})
    trainer.fit(module, GeneDataModule(len(genes), batch_size))
    return {"curve": curve.points}


def measure_joint(data: Path, recon_impl: str, batch_size: int, recon_genes: int, epochs: int,
                  checkpoint: str | None) -> dict:
    from geneint.data.canonical import read_gene_index
    from geneint.train.dango import DangoArchitecture, DangoTraining, build_dango_module
    from geneint.train.data import InteractionDataModule
    from geneint.train.sets import load_graphs

    processed = data / "processed"
    genes = read_gene_index(processed / "genes.tsv")
    graphs = load_graphs([processed / "graphs" / f"string_v9.1_{c}.npz" for c in CHANNELS],
                         genes)
    datamodule = InteractionDataModule(processed / "interactions.parquet",
                                       processed / "genes.tsv",
                                       processed / "splits" / "random.parquet", 0,
                                       batch_size=batch_size)
    datamodule.setup("fit")
    options = DangoTraining.defaults(alpha_schedule="linear_until_uniform", lr=1e-3,
                                     recon_impl=recon_impl, recon_genes_per_step=recon_genes,
                                     epochs=epochs)
    module = build_dango_module(datamodule, graphs, DangoArchitecture("spec", 64), options)
    timer = EpochTimer()
    trainer = _trainer(epochs, timer, validate=checkpoint is not None)
    trainer.fit(module, datamodule=datamodule)
    if checkpoint:
        trainer.save_checkpoint(checkpoint)
    train_sets = len(datamodule.sets["train"].tau)
    return {"epoch_seconds": timer.seconds, "train_triples": train_sets,
            "epoch_seconds_91k": [s * SEED_TRIPLES / train_sets for s in timer.seconds]}


def measure_screen(data: Path, checkpoint: str, max_sets: int, chunk_size: int,
                   compile: bool) -> dict:
    import pandas as pd

    from geneint.evaluate.screen import screen

    processed = data / "processed"
    frame = pd.read_parquet(processed / "interactions.parquet")
    kuzmin_genes = sorted(set(frame[["gene_a", "gene_b", "gene_c"]].to_numpy().ravel()) - {""})
    out = data / "screen" / f"top_{max_sets}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = screen(checkpoint, processed / "genes.tsv",
                     [processed / "graphs" / f"string_v9.1_{c}.npz" for c in CHANNELS], out,
                     gene_set=kuzmin_genes, arity=3, top_k=10_000, chunk_size=chunk_size,
                     max_sets=max_sets, progress_bar=False, compile=compile)
    return {"sets_per_second": summary["sets_per_second"], "genes": summary["genes"],
            "sets_total": summary["sets_total"], "sets_scored": summary["sets_scored"]}


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    if args.what == "pretrain":
        result = measure_pretrain(data, args.channel, args.recon_impl, args.batch_size,
                                  args.epochs)
    elif args.what == "pretrain-convergence":
        result = measure_pretrain_convergence(data, args.channel, args.batch_size, args.lr,
                                              args.seconds)
    elif args.what == "joint":
        result = measure_joint(data, args.recon_impl, args.batch_size, args.recon_genes,
                               args.epochs, args.checkpoint)
    else:
        result = measure_screen(data, args.checkpoint, args.max_sets, args.chunk_size,
                                args.compile)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def run_child(data: Path, threads: int, kind: str, *options: str) -> dict:
    return run_script(__file__, "_child", kind, "--data", str(data), "--threads", str(threads),
                      *options)


def run_script(script: str, *argv: str) -> dict:
    """Run a benchmark script in a fresh process; its ``RESULT {json}`` line."""
    cmd = [sys.executable, script, *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")


# --- the suite ---------------------------------------------------------------------------
def median_epoch(result: dict, key: str = "epoch_seconds") -> float:
    """Epochs after the first (warm-up) when there are several."""
    seconds = result[key][1:] or result[key]
    return statistics.median(seconds)


def epoch_bench_parser(doc: str) -> argparse.ArgumentParser:
    """The options every training-epoch benchmark script shares."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("what", nargs="?", default="all", choices=("all", "_child"))
    parser.add_argument("--data", default=str(HERE / ".data"))
    parser.add_argument("--scale", choices=("seed", "demo"), default="seed",
                        help="demo: the 600-gene demo data, to check the script runs (tests)")
    parser.add_argument("--results", default=str(HERE / "results.jsonl"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    return parser


def run_info(args) -> dict:
    """The machine and the command of a benchmark run (stored with every row), printed."""
    info = {**machine(), "threads": args.threads, "repeats": args.repeats, "scale": args.scale,
            "command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d %H:%M")}
    print(f"# {info['cpu']}, {info['cores']} cores, torch {info['torch']}, "
          f"{args.threads} threads, median of {args.repeats}")
    return info


def report_child(threads: int, measure) -> None:
    """In a child process: ``measure()`` with ``threads`` torch threads, printed as the
    ``RESULT {json}`` line :func:`run_script` reads, with the process's peak RSS."""
    import torch

    torch.set_num_threads(threads)
    result = measure()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def write_rows(path: str, rows: dict[str, dict], info: dict) -> None:
    """Append a benchmark's rows, each with the machine and command, to the results file."""
    with open(path, "a") as log:
        for row in rows.values():
            log.write(json.dumps({**row, "machine": info}) + "\n")


def dango_epoch(data: Path, threads: int, epochs: int) -> dict:
    """DANGO's joint epoch as the workflow trains it (setup ``fast``), in a fresh process."""
    return run_child(data, threads, "joint", "--recon-impl", "sparse", "--batch-size", "1024",
                     "--recon-genes", "960", "--epochs", str(epochs))


def epoch_rows(setups: dict, repeats: int, keep: tuple[str, ...] = ()) -> dict[str, dict]:
    """Each setup (a callable returning one child's result) ``repeats`` times: rows of the
    median training epoch over 91k triples, printed as they come."""
    rows = {}
    for setup, measure in setups.items():
        results = [measure() for _ in range(repeats)]
        runs = [median_epoch(r, "epoch_seconds_91k") for r in results]
        rows[setup] = {"benchmark": "training epoch over 91k triples (s)", "setup": setup,
                       "runs": runs, "median": statistics.median(runs),
                       "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                       **{k: results[0][k] for k in keep if k in results[0]}}
        print(f"{setup:24s} {rows[setup]['median']:9.2f} s  (runs "
              f"{', '.join(f'{r:.3g}' for r in runs)}; peak RSS "
              f"{rows[setup]['peak_rss_mb']:.0f} MB)", flush=True)
    return rows


def bench_pretrain(data: Path, args) -> list[dict]:
    rows = []
    for setup, params in SETUPS["pretrain"].items():
        if args.setups and setup not in args.setups:
            continue
        totals, rss = [], []
        for _ in range(args.repeats):
            per_network = [run_child(data, args.threads, "pretrain", "--channel", channel,
                                     "--recon-impl", params["recon_impl"], "--batch-size",
                                     str(params["batch_size"]), "--epochs",
                                     str(args.pretrain_epochs)) for channel in CHANNELS]
            totals.append(sum(median_epoch(r) for r in per_network))
            rss.append(max(r["peak_rss_mb"] for r in per_network))
        rows.append({"benchmark": "pretrain epoch, all genes x 6 networks (s)", "setup": setup,
                     **params, "runs": totals, "median": statistics.median(totals),
                     "peak_rss_mb": max(rss)})
    return rows


def bench_pretrain_convergence(data: Path, args) -> list[dict]:
    """Full-batch pretraining takes one optimiser step per epoch instead of 69: is it as good
    per second of training? Reconstruction loss over all rows against training time, on the
    largest network, one run per setup (training is seeded)."""
    rows = []
    setups = [("batch 96 (workflow)", 96, 1e-3), ("batch 2048", 2048, 1e-3),
              ("full batch", ALL_GENES, 1e-3), ("full batch, lr 1e-2", ALL_GENES, 1e-2)]
    for setup, batch_size, lr in setups:
        result = run_child(data, args.threads, "pretrain-convergence", "--channel",
                           "coexpression", "--batch-size", str(batch_size), "--lr", str(lr),
                           "--seconds", str(args.convergence_seconds))
        curve = result["curve"]
        at = {f"{budget:g} s": min((loss for t, loss in curve if t <= budget), default=None)
              for budget in (5, 10, 20, 40)}
        rows.append({"benchmark": "pretrain loss vs training time (coexpression)",
                     "setup": setup, "batch_size": batch_size, "lr": lr, "curve": curve,
                     "best_loss_within": at, "runs": [curve[-1][1]],
                     "median": curve[-1][1], "peak_rss_mb": result["peak_rss_mb"]})
    return rows


def bench_joint(data: Path, args) -> list[dict]:
    rows = []
    for setup, params in SETUPS["joint"].items():
        if args.setups and setup not in args.setups:
            continue
        results = [run_child(data, args.threads, "joint", "--recon-impl", params["recon_impl"],
                             "--batch-size", str(params["batch_size"]), "--recon-genes",
                             str(params["recon_genes"]), "--epochs", str(args.joint_epochs))
                   for _ in range(args.repeats)]
        runs = [median_epoch(r, "epoch_seconds_91k") for r in results]
        rows.append({"benchmark": "joint epoch over 91k triples (s)", "setup": setup, **params,
                     "runs": runs, "median": statistics.median(runs),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in results)})
    return rows


def bench_screen(data: Path, args) -> list[dict]:
    checkpoint = data / "screen" / "model.ckpt"
    if not checkpoint.exists():  # a briefly trained model: throughput does not depend on it
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        run_child(data, args.threads, "joint", "--recon-impl", "sparse", "--batch-size", "1024",
                  "--epochs", "1", "--checkpoint", str(checkpoint))
    rows = []
    setups = [("", args.screen_sets // 4), ("", args.screen_sets),
              ("compiled", args.screen_sets)]
    for compiled, max_sets in setups:
        results = [run_child(data, args.threads, "screen", "--checkpoint", str(checkpoint),
                             "--max-sets", str(max_sets), "--chunk-size", str(args.chunk_size),
                             *(["--compile"] if compiled else []))
                   for _ in range(args.repeats)]
        runs = [r["sets_per_second"] for r in results]
        total = results[0]["sets_total"]
        rows.append({"benchmark": "screen throughput (triples/s)",
                     "setup": f"{max_sets:,} sets {compiled}".strip(), "compiled": bool(compiled),
                     "runs": runs, "median": statistics.median(runs),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                     "extrapolated_all_triples_s": total / statistics.median(runs),
                     "genes": results[0]["genes"], "sets_total": total})
    return rows


def machine() -> dict:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "torch": torch.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("all", "prepare", "pretrain", "joint", "screen",
                                         "pretrain-convergence", "_child"))
    parser.add_argument("child_what", nargs="?",
                        choices=("pretrain", "joint", "screen", "pretrain-convergence"))
    parser.add_argument("--data", default=str(HERE / ".data"))
    parser.add_argument("--scale", choices=("seed", "demo"), default="seed",
                        help="demo: the 600-gene demo data, to check the suite runs (tests)")
    parser.add_argument("--results", default=str(HERE / "results.jsonl"),
                        help="JSON lines file the rows are appended to")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    parser.add_argument("--joint-epochs", type=int, default=2)
    parser.add_argument("--screen-sets", type=int, default=4_000_000)
    parser.add_argument("--chunk-size", type=int, default=1_024)
    parser.add_argument("--setups", type=lambda text: text.split(","), default=None,
                        help="pretrain/joint: only these setups (comma-separated names)")
    parser.add_argument("--convergence-seconds", type=int, default=45,
                        help="wall time of each pretrain-convergence run")
    # child-only
    parser.add_argument("--channel", default="coexpression")
    parser.add_argument("--recon-impl", default="sparse")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--recon-genes", type=int, default=960)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--max-sets", type=int, default=1_000_000)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    if args.what == "_child":
        args.what = args.child_what
        child(args)
        return
    data = Path(args.data)
    prepare(data, args.scale)
    if args.what == "prepare":
        return
    benches = {"pretrain": bench_pretrain, "joint": bench_joint, "screen": bench_screen,
               "pretrain-convergence": bench_pretrain_convergence}
    chosen = ["pretrain", "joint", "screen"] if args.what == "all" else [args.what]
    info = run_info(args)
    with open(args.results, "a") as log:
        for name in chosen:
            for row in benches[name](data, args):
                row["machine"] = info
                log.write(json.dumps(row) + "\n")
                runs = ", ".join(f"{r:,.3g}" for r in row["runs"])
                extra = (f"; all {row['sets_total']:,} triples of {row['genes']} genes: "
                         f"{row['extrapolated_all_triples_s'] / 60:.1f} min"
                         if "extrapolated_all_triples_s" in row else "")
                if "best_loss_within" in row:
                    extra += "; best loss within " + ", ".join(
                        f"{k}: {v:.5g}" for k, v in row["best_loss_within"].items()
                        if v is not None)
                print(f"{row['benchmark']:<45} {row['setup']:<14} median {row['median']:,.4g}"
                      f"  (runs {runs}; peak RSS {row['peak_rss_mb']:,.0f} MB{extra})",
                      flush=True)


if __name__ == "__main__":
    main()
