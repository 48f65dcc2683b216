"""The one entry point: ``geneint <stage> …``. Each subcommand parses flags, sets up logging
and seeds, and calls one function of the package; Snakemake rules call these subcommands.

Files in and out (see ARCHITECTURE.md):

- ``synth``: writes a raw data set in the published formats (STRING ``.txt.gz`` ×2 releases,
  Kuzmin 2018 Data S1 ``.tsv``, ``SGD_features.tab``) plus ``truth/`` (noise-free τ).
- ``download``: one raw file from a URL (or ``--local`` copy), sha256-verified.
- ``parse string``: STRING ``protein.links.detailed`` → canonical edge table (``.parquet``).
- ``genes``: ``SGD_features.tab`` and/or STRING edge tables → ``genes.tsv``.
- ``parse interactions``: Kuzmin/Costanzo raw tables → ``interactions.parquet``.
- ``graphs build``: STRING edge tables + ``genes.tsv`` → one network's ``.npz`` (with its λ).
- ``split``: ``interactions.parquet`` → ``splits/<name>.parquet`` (set → fold, role).
- ``pretrain``: one network's ``.npz`` → ``pretrained.pt``, ``embeddings.pt``, ``metrics.csv``.
- ``train``: sets, split, graphs, pretrained networks → ``best.ckpt``, ``metrics.csv``.
- ``evaluate``: ``best.ckpt`` → ``predictions.parquet``, ``metrics.json``.
- ``aggregate``: every ``metrics.json`` → ``summary.tsv``, ``summary_by_point.tsv``, plots.

Every output that filters rows gets a QC report beside it (``<output>.qc.json``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("geneint")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def cmd_synth(args: argparse.Namespace) -> None:
    from geneint.data.synthetic import synthesize

    synthesize(Path(args.out), seed=args.seed, scale=args.scale, noise_sd=args.noise_sd)


def cmd_download(args: argparse.Namespace) -> None:
    from geneint.data.download import Source, fetch

    source = Source(name=args.name, url=args.url, sha256=args.sha256 or None,
                    extract=args.extract, local=args.local)
    fetch(source, args.out, allow_unpinned=args.allow_unpinned)


def cmd_parse_string(args: argparse.Namespace) -> None:
    from geneint.data.io import QCReport, qc_path_for
    from geneint.data.string import read_string_links
    from geneint.data.tables import write_edges

    qc = QCReport(args.raw)
    edges = read_string_links(args.raw, channels=tuple(args.channels), qc=qc)
    write_edges(edges, args.out)
    qc.log_summary()
    qc.write(qc_path_for(args.out))


def cmd_genes(args: argparse.Namespace) -> None:
    import pandas as pd

    from geneint.data.genes import build_gene_universe, read_sgd_features
    from geneint.data.io import QCReport, qc_path_for
    from geneint.data.tables import read_edges, write_gene_index

    qc = QCReport([*(args.sgd or []), *args.string])
    sgd_genes = None
    if args.sgd:
        sgd_genes = read_sgd_features(args.sgd[0], qualifiers=args.sgd_qualifiers, qc=qc)["gene"]
    string_genes = None
    if args.string:
        edges = pd.concat([read_edges(p) for p in args.string])
        string_genes = set(edges["gene_a"]) | set(edges["gene_b"])
        qc.info["string_genes"] = len(string_genes)
    genes = build_gene_universe(args.universe, sgd_genes, string_genes)
    if sgd_genes is not None and string_genes is not None:
        qc.count("sgd_genes_not_in_string", len(set(sgd_genes) - string_genes))
        qc.count("string_genes_not_in_sgd", len(string_genes - set(sgd_genes)))
    qc.info.update(universe=args.universe, genes=len(genes))
    write_gene_index(genes, args.out)
    log.info("gene index: %d genes (%s) -> %s", len(genes), args.universe, args.out)
    qc.write(qc_path_for(args.out))


def cmd_parse_interactions(args: argparse.Namespace) -> None:
    from geneint.data.interactions import build_interactions
    from geneint.data.io import qc_path_for
    from geneint.data.tables import read_gene_index, write_interactions

    sources = [(kind, Path(p)) for kind in ("kuzmin2018", "kuzmin2020", "costanzo2016_sga")
               for p in (getattr(args, kind) or [])]
    if not sources:
        raise SystemExit("parse interactions: give at least one of --kuzmin2018, "
                         "--kuzmin2020, --costanzo2016-sga")
    universe = set(read_gene_index(args.genes))
    frame, qc = build_interactions(
        sources, universe=universe, unknown_genes=args.unknown_genes,
        duplicate_rule=args.duplicates, arities=tuple(args.arity),
        truth=Path(args.truth) if args.truth else None,
    )
    write_interactions(frame, args.out)
    qc.info.update(sets=len(frame), by_arity=frame["arity"].value_counts().sort_index()
                   .to_dict())
    qc.log_summary()
    qc.write(qc_path_for(args.out))


def cmd_graphs_build(args: argparse.Namespace) -> None:
    from geneint.data.io import QCReport, qc_path_for
    from geneint.data.tables import read_edges, read_gene_index
    from geneint.graphs.network import build_network_graph, write_graph

    genes = read_gene_index(args.genes)
    if len(args.releases) != len(args.edges):
        raise SystemExit("graphs build: give one --releases value per --edges file")
    edges = {release: read_edges(path) for release, path in zip(args.releases, args.edges)}
    configured = dict(pair.split("=") for pair in args.lambda_config or [])
    qc = QCReport(list(args.edges))
    graph = build_network_graph(
        args.network, args.releases, edges, genes,
        configured_lambda={k: float(v) for k, v in configured.items()},
        lambda_mode=args.lambda_mode, qc=qc,
    )
    write_graph(graph, args.out)
    qc.write(qc_path_for(args.out))
    log.info("%s: %d edges over %d genes, λ = %s (%s)", graph.name, graph.num_edges,
             graph.num_nodes, graph.lam, graph.meta["lambda_source"])


def cmd_split(args: argparse.Namespace) -> None:
    from geneint.data.splits import make_split, write_split
    from geneint.data.tables import read_interactions

    table, summary = make_split(read_interactions(args.interactions), args.kind, seed=args.seed,
                                folds=args.folds, val_fraction=args.val_fraction,
                                heldout_genes=args.heldout_genes, arities=tuple(args.arity))
    write_split(table, summary, args.out)
    log.info("%s split: %s", args.kind, summary["roles"])


def _model_options(args: argparse.Namespace):
    from geneint.train.run import ModelOptions

    return ModelOptions(variant=args.variant, dim=args.dim, num_heads=args.heads,
                        num_attention_layers=args.attention_layers, activation=args.activation,
                        recon_hidden=args.recon_hidden, dropout=args.dropout,
                        embedding_seed=args.embedding_seed)


def cmd_pretrain(args: argparse.Namespace) -> None:
    import torch

    from geneint.train.run import pretrain_network

    torch.set_num_threads(args.threads)
    pretrain_network(args.graph, args.genes, args.out, _model_options(args), epochs=args.epochs,
                     batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                     recon_loss=args.recon_loss, recon_impl=args.recon_impl, seed=args.seed,
                     progress_bar=not args.no_progress_bar)


def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from geneint.train.run import JointOptions, train_joint

    torch.set_num_threads(args.threads)
    options = JointOptions(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, gradient_clip=args.gradient_clip or None,
        alpha_schedule=args.alpha_schedule, alpha=args.alpha, alpha_epochs=args.alpha_epochs,
        recon_genes_per_step=args.recon_genes_per_step, recon_loss=args.recon_loss,
        recon_impl=args.recon_impl,
        scheduler=args.lr_scheduler, early_stopping_patience=args.patience,
        shuffle_labels=args.shuffle_labels, freeze_embedding=args.freeze_embedding,
        tensorboard=args.tensorboard,
    )
    train_joint(args.interactions, args.genes, args.split, args.fold, args.graphs,
                args.pretrained, args.out, args.work_dir or f"{args.out}.work",
                _model_options(args), options, seed=args.seed,
                devices=args.devices if args.devices == "auto" else int(args.devices),
                num_nodes=args.num_nodes, progress_bar=not args.no_progress_bar)


def cmd_submit(args: argparse.Namespace) -> None:
    from geneint.train.submit import submit_training

    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    if train_args[:1] == ["train"]:
        train_args = train_args[1:]
    job = submit_training(
        train_args, cluster=args.cluster, folder=args.folder, nodes=args.nodes,
        tasks_per_node=args.tasks_per_node, gpus_per_node=args.gpus_per_node,
        cpus_per_task=args.cpus_per_task, mem_gb=args.mem_gb, timeout_min=args.timeout_min,
        partition=args.partition, account=args.account,
        slurm_extra=dict(kv.split("=", 1) for kv in args.sbatch or []),
    )
    print(job.job_id, flush=True)
    if args.wait:
        summaries = [s for s in job.results() if s]
        if summaries:
            log.info("done: world size %d, best validation Pearson %.4f",
                     summaries[0]["world_size"], summaries[0]["best_val_pearson"] or float("nan"))


def cmd_screen(args: argparse.Namespace) -> None:
    import torch

    from geneint.data.io import iter_lines
    from geneint.evaluate.screen import screen

    torch.set_num_threads(args.threads)
    gene_set = None
    if args.gene_set:
        gene_set = [line.split("\t")[0].strip() for _, line in iter_lines(args.gene_set)
                    if line.strip() and not line.startswith(("#", "gene"))]
    screen(args.checkpoint, args.genes, args.graphs, args.out, gene_set=gene_set,
           arity=args.arity, top_k=args.top_k, chunk_size=args.chunk_size,
           max_sets=args.max_sets, progress_bar=not args.no_progress_bar,
           compile=args.compile)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from geneint.evaluate.predict import evaluate_checkpoint

    evaluate_checkpoint(args.checkpoint, args.interactions, args.genes, args.split, args.fold,
                        args.graphs, args.out, strong_threshold=args.strong_threshold)


def cmd_aggregate(args: argparse.Namespace) -> None:
    from geneint.report.aggregate import aggregate

    aggregate(args.metrics, args.curves or [], args.results)


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model (must match between pretrain and train)")
    g.add_argument("--variant", choices=("spec", "original"), default="spec",
                   help="spec: the DANGO paper; original: the original code's quirks")
    g.add_argument("--dim", type=int, default=64, help="embedding size D everywhere")
    g.add_argument("--heads", type=int, default=None, help="attention heads (spec 4, orig. 8)")
    g.add_argument("--attention-layers", type=int, default=None, help="spec 2, original 1")
    g.add_argument("--activation", default=None, help="relu (spec) | swish (original) | gelu")
    g.add_argument("--recon-hidden", type=int, default=None, help="hidden width of recon heads")
    g.add_argument("--dropout", type=float, default=None, help="attention dropout")
    g.add_argument("--embedding-seed", type=int, default=0,
                   help="seed of the shared embedding table (same for every network)")
    g.add_argument("--recon-loss", choices=("spec", "original"), default="spec",
                   help="weighted MSE over all G entries (spec) or the original's per-row means")
    g.add_argument("--recon-impl", choices=("sparse", "dense"), default="sparse",
                   help="reconstruction loss: exact closed form at O(nnz) cost (sparse) or the "
                        "(B, G) dense reference (same value; for benchmarks)")


def _add_set_inputs(p: argparse.ArgumentParser) -> None:
    """The canonical files training and evaluation read."""
    p.add_argument("--interactions", required=True, help="interactions.parquet")
    p.add_argument("--genes", required=True, help="genes.tsv")
    p.add_argument("--split", required=True, help="splits/<name>.parquet")
    p.add_argument("--fold", type=int, default=0, help="fold of the split")
    p.add_argument("--graphs", nargs="+", required=True, help="one .npz per network")


def build_parser() -> argparse.ArgumentParser:
    from geneint.data.genes import UNIVERSE_MODES
    from geneint.data.tables import DUPLICATE_RULES, STRING_CHANNELS

    parser = argparse.ArgumentParser(prog="geneint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write the synthetic demo raw data in published formats")
    p.add_argument("--out", required=True, help="folder for string/, kuzmin2018/, sgd/, truth/")
    p.add_argument("--seed", type=int, default=0, help="fixes every random choice")
    p.add_argument("--scale", choices=("demo", "seed"), default="demo",
                   help="demo: ~600 genes (seconds); seed: 6,607 genes, 91k triples")
    p.add_argument("--noise-sd", type=float, default=None,
                   help="sd of the measurement noise on τ (default: the scale's own)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("download", help="fetch one raw file, sha256-verified")
    p.add_argument("--name", required=True, help="source name for messages")
    p.add_argument("--url", required=True)
    p.add_argument("--sha256", default=None, help="pinned hex digest (omit: unpinned)")
    p.add_argument("--extract", default=None, help="zip member to extract")
    p.add_argument("--local", default=None, help="offline: use this local copy")
    p.add_argument("--allow-unpinned", action="store_true",
                   help="accept a file without a pinned sha256 (its hash is logged)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("genes", help="build the gene index genes.tsv")
    p.add_argument("--sgd", nargs="*", default=[], help="SGD_features.tab")
    p.add_argument("--sgd-qualifiers", nargs="*", default=None,
                   help="keep only these SGD qualifiers (default: all)")
    p.add_argument("--string", nargs="*", default=[], help="canonical STRING edge tables")
    p.add_argument("--universe", choices=UNIVERSE_MODES, required=True)
    p.add_argument("--out", required=True, help="genes.tsv (header 'gene', row = node id)")
    p.set_defaults(func=cmd_genes)

    parse = sub.add_parser("parse", help="raw published tables -> canonical tables")
    parse_sub = parse.add_subparsers(dest="what", required=True)
    p = parse_sub.add_parser("string", help="STRING links.detailed .txt.gz -> edges .parquet")
    p.add_argument("--raw", required=True)
    p.add_argument("--channels", nargs="+", default=list(STRING_CHANNELS),
                   choices=STRING_CHANNELS)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_parse_string)

    p = parse_sub.add_parser("interactions", help="Kuzmin/Costanzo -> interactions.parquet")
    p.add_argument("--kuzmin2018", nargs="*", help="Data S1 .tsv")
    p.add_argument("--kuzmin2020", nargs="*", help="Table S1/S3 .xlsx")
    p.add_argument("--costanzo2016-sga", dest="costanzo2016_sga", nargs="*",
                   help="SGA_*.txt pair tables")
    p.add_argument("--genes", required=True, help="genes.tsv: the gene universe")
    p.add_argument("--unknown-genes", choices=("drop", "error"), default="drop",
                   help="valid ORFs outside the universe: drop and count, or fail")
    p.add_argument("--duplicates", choices=DUPLICATE_RULES, default="most_significant")
    p.add_argument("--arity", type=int, nargs="+", default=[2, 3], choices=(2, 3))
    p.add_argument("--truth", default=None, help="noise-free τ TSV (synthetic data)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_parse_interactions)

    p = sub.add_parser("graphs", help="network graphs over the gene index")
    graphs_sub = p.add_subparsers(dest="what", required=True)
    p = graphs_sub.add_parser("build", help="one network -> .npz (edge_index, weight, λ)")
    p.add_argument("--network", required=True, help="string_v<release>_<channel>")
    p.add_argument("--edges", nargs="+", required=True, help="STRING edge tables, oldest first")
    p.add_argument("--releases", nargs="+", required=True, help="their releases, same order")
    p.add_argument("--genes", required=True)
    p.add_argument("--lambda-mode", choices=("rule", "config", "one"), default="rule",
                   help="rule: from two releases (else config); config; one: λ=1 (ablation)")
    p.add_argument("--lambda-config", nargs="*", metavar="CHANNEL=λ",
                   help="configured λ per channel, e.g. coexpression=0.1")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_graphs_build)

    p = sub.add_parser("split", help="seeded train/val/test split of the interaction sets")
    p.add_argument("--interactions", required=True)
    p.add_argument("--kind", choices=("random", "gene1", "gene2"), required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, default=5, help="folds of the random split")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--heldout-genes", type=float, default=40,
                   help="gene splits: genes held out (count >= 1, or fraction < 1)")
    p.add_argument("--arity", type=int, nargs="+", default=[3], choices=(2, 3))
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("pretrain", help="pretrain one network's GNN + reconstruction head")
    p.add_argument("--graph", required=True, help="the network's .npz")
    p.add_argument("--genes", required=True)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=96, help="genes per step")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-progress-bar", action="store_true")
    p.add_argument("--out", required=True, help="folder for pretrained.pt, embeddings.pt")
    _add_model_flags(p)
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("train", help="joint DANGO training (Lightning; DDP-capable)")
    _add_set_inputs(p)
    p.add_argument("--pretrained", nargs="*", default=None,
                   help="pretrained.pt per network (omit to train from scratch)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=256,
                   help="global batch: split over the DDP ranks")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--gradient-clip", type=float, default=1.0, help="max grad norm; 0 = off")
    p.add_argument("--alpha-schedule", default="constant",
                   choices=("constant", "linear_until_uniform", "pre_then_post"))
    p.add_argument("--alpha", type=float, default=0.001, help="α of the constant schedule")
    p.add_argument("--alpha-epochs", type=int, default=10, help="N of the other schedules")
    p.add_argument("--recon-genes-per-step", type=int, default=960)
    p.add_argument("--lr-scheduler", choices=("cosine", "plateau", "none"), default="cosine")
    p.add_argument("--patience", type=int, default=10, help="early stopping on val Pearson")
    p.add_argument("--shuffle-labels", action="store_true", help="negative control")
    p.add_argument("--freeze-embedding", action="store_true",
                   help="keep the shared embedding table at its pretraining values")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--devices", default="auto",
                   help="processes (GPUs) per node; 'auto' takes them from the launcher "
                        "(srun, torchrun, submitit), else 1")
    p.add_argument("--num-nodes", type=int, default=None,
                   help="nodes; default: from the launcher, else 1")
    p.add_argument("--no-progress-bar", action="store_true")
    p.add_argument("--tensorboard", action="store_true",
                   help="also log to TensorBoard (<out>/tensorboard; needs tensorboard)")
    p.add_argument("--work-dir", default=None,
                   help="resumable checkpoints (default <out>.work; keep outside outputs)")
    p.add_argument("--out", required=True, help="folder for best.ckpt, metrics.csv")
    _add_model_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "submit", help="run `geneint train` as a submitit job (Slurm, or local processes)",
        description="geneint submit [options] -- <geneint train arguments>. One task per GPU; "
                    "devices and nodes reach Lightning from the job's environment.")
    p.add_argument("--cluster", choices=("slurm", "local", "debug"), default="slurm")
    p.add_argument("--folder", default="logs/submitit", help="job logs and pickles (shared FS)")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--tasks-per-node", type=int, default=1, help="DDP ranks per node (= GPUs)")
    p.add_argument("--gpus-per-node", type=int, default=0)
    p.add_argument("--cpus-per-task", type=int, default=1)
    p.add_argument("--mem-gb", type=float, default=None, help="memory per node")
    p.add_argument("--timeout-min", type=int, default=60,
                   help="time limit; submitit requeues on time-out and training resumes")
    p.add_argument("--partition", default=None)
    p.add_argument("--account", default=None)
    p.add_argument("--sbatch", nargs="*", metavar="KEY=VALUE",
                   help="more sbatch options, e.g. gres=gpu:4 constraint=a100")
    p.add_argument("--wait", action="store_true", help="block until the job ends")
    p.add_argument("train_args", nargs=argparse.REMAINDER,
                   help="-- then the arguments of `geneint train` (must include --out)")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("screen", help="score every pair/triple of a gene set; keep the top k")
    p.add_argument("--checkpoint", required=True, help="best.ckpt of joint training")
    p.add_argument("--genes", required=True, help="genes.tsv the model was trained with")
    p.add_argument("--graphs", nargs="+", required=True, help="the model's network graphs")
    p.add_argument("--gene-set", default=None,
                   help="file with one ORF per line (first column); default: every gene")
    p.add_argument("--arity", type=int, choices=(2, 3), default=3)
    p.add_argument("--top-k", type=int, default=10_000, help="sets kept, by largest |τ̂|")
    p.add_argument("--chunk-size", type=int, default=1_024,
                   help="sets scored per batch (memory grows with it, not with the set count)")
    p.add_argument("--max-sets", type=int, default=None,
                   help="stop after this many sets (throughput on a prefix)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the set scoring: ~1.4x faster after ~15 s (C++ compiler)")
    p.add_argument("--no-progress-bar", action="store_true")
    p.add_argument("--out", required=True,
                   help="top-k table (.parquet, or .tsv); <out>.json gets counts and speed")
    p.set_defaults(func=cmd_screen)

    p = sub.add_parser("evaluate", help="predictions + metrics.json from a checkpoint")
    p.add_argument("--checkpoint", required=True)
    _add_set_inputs(p)
    p.add_argument("--strong-threshold", type=float, default=0.05,
                   help="|τ| above which an interaction is strong (AUROC/AUPRC)")
    p.add_argument("--out", required=True, help="folder for predictions.parquet, metrics.json")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("aggregate", help="summary.tsv + plots over every sweep point x seed")
    p.add_argument("--metrics", nargs="+", required=True,
                   help="metrics.json files under …/<key>~<value>/…/seed<k>/")
    p.add_argument("--curves", nargs="*", help="training metrics.csv files (same layout)")
    p.add_argument("--results", required=True,
                   help="folder for summary.tsv, summary_by_point.tsv, plots/")
    p.set_defaults(func=cmd_aggregate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # Readers raise errors that already name file, line and problem: show them plainly.
        log.error("%s", exc)
        if args.verbose:
            raise
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
