"""Model stages of the CLI: pretraining, training any model of the registry, evaluation,
screening, aggregation, and submitit launches.

``geneint train <model>`` has one subcommand per model of :mod:`geneint.models.registry`; each
takes the canonical inputs the model needs, its swept axes (defaults: the first value of the
sweep schema's default) and the config settings it declares (defaults: the config schema's), so
``geneint train dango …`` with no tuning flags trains the model the workflow trains.
"""

from __future__ import annotations

import argparse
import importlib
import logging

from geneint.cli.threads import use_threads
from geneint.models.registry import MODELS, ModelSpec
from geneint.schema import add_flags, config_flags, config_node, model_axes

log = logging.getLogger("geneint")

#: Neural models trained from one options dataclass (``geneint.train.<model>``): its options
#: class and training function.
OPTIONS_TRAINERS = {
    "dcell": ("DCellOptions", "train_dcell"),
    "multigraph": ("MultiGraphOptions", "train_multigraph"),
    "hetero_sagpool": ("HeteroSAGPoolOptions", "train_hetero_sagpool"),
}


def _training_inputs(args: argparse.Namespace):
    from geneint.train.sets import TrainingInputs

    return TrainingInputs(
        interactions=args.interactions, genes=args.genes, split=args.split, fold=args.fold,
        out_dir=args.out, work_dir=getattr(args, "work_dir", None) or f"{args.out}.work",
        graphs=getattr(args, "graphs", None) or [],
        pretrained=getattr(args, "pretrained", None) or getattr(args, "embeddings", None) or [],
        ontology=getattr(args, "ontology", None), metabolism=getattr(args, "metabolism", None),
        seed=args.seed,
        shuffle_labels=args.shuffle_labels)


def _architecture(args: argparse.Namespace):
    from geneint.train.dango import DangoArchitecture

    return DangoArchitecture(variant=args.variant, dim=args.dim, heads=args.heads,
                             attention_layers=args.attention_layers,
                             activation=args.activation, recon_hidden=args.recon_hidden,
                             dropout=args.dropout)


def cmd_pretrain(args: argparse.Namespace) -> None:
    from geneint.train.dango import variant_recon_loss
    from geneint.train.pretrain import pretrain_network

    use_threads(args.threads)
    config = _architecture(args).config(num_genes=1, num_networks=1)
    config = {k: v for k, v in config.items() if k not in ("num_genes", "num_networks")}
    pretrain_network(args.graph, args.genes, args.out, config,
                     embedding_seed=args.embedding_seed, epochs=args.epochs,
                     batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                     recon_loss=variant_recon_loss(args.variant, args.recon_loss),
                     recon_impl=args.recon_impl, seed=args.seed,
                     progress_bar=not args.no_progress_bar, work_dir=args.work_dir)


def cmd_train(args: argparse.Namespace) -> None:
    use_threads(args.threads)
    inputs = _training_inputs(args)
    if args.model == "fba":
        from geneint.train.fba import predict_fba

        predict_fba(inputs, args.growth)
        return
    if MODELS[args.model].runner == "estimator":
        from geneint.train.estimators import fit_estimator

        settings = {}
        for dotted in MODELS[args.model].settings:
            settings.update({key: getattr(args, key)
                             for key in config_node(dotted)["properties"]})
        fit_estimator(args.model, inputs, settings, threads=args.threads)
        return
    devices = args.devices if args.devices == "auto" else int(args.devices)
    if args.model in OPTIONS_TRAINERS:
        module = importlib.import_module(f"geneint.train.{args.model}")
        options_class, train = (getattr(module, name) for name in OPTIONS_TRAINERS[args.model])
        train(inputs, options_class.from_namespace(args), devices=devices,
              num_nodes=args.num_nodes, progress_bar=not args.no_progress_bar)
        return
    from geneint.train.dango import DangoTraining, train_dango

    options = DangoTraining(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, gradient_clip=args.gradient_clip,
        alpha_schedule=args.alpha_schedule, alpha=args.alpha, alpha_epochs=args.alpha_epochs,
        recon_genes_per_step=args.recon_genes_per_step, lr_scheduler=args.lr_scheduler,
        patience=args.patience, average_top_k=args.average_top_k,
        embedding_seed=args.embedding_seed, recon_loss=args.recon_loss or "spec",
        recon_impl=args.recon_impl, freeze_embedding=args.freeze_embedding,
        tensorboard=args.tensorboard)
    train_dango(inputs, _architecture(args), options, devices=devices,
                num_nodes=args.num_nodes, progress_bar=not args.no_progress_bar)


def cmd_fba_growth(args: argparse.Namespace) -> None:
    from geneint.train.fba import compute_growth_chunk

    compute_growth_chunk(args.interactions, args.model, args.chunk, args.chunks, args.out)


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
            summary = summaries[0]
            score = summary.get("best_" + summary["selected_by"].replace("/", "_"))
            log.info("done: world size %d, best %s %.4f", summary["world_size"],
                     summary["selected_by"], score if score is not None else float("nan"))


def cmd_screen(args: argparse.Namespace) -> None:
    from geneint.data.files import iter_lines
    from geneint.evaluate.screen import screen

    use_threads(args.threads)
    gene_set = None
    if args.gene_set:
        gene_set = [line.split("\t")[0].strip() for _, line in iter_lines(args.gene_set)
                    if line.strip() and not line.startswith(("#", "gene"))]
    screen(args.checkpoint, args.genes, args.graphs, args.out, gene_set=gene_set,
           arity=args.arity, top_k=args.top_k, chunk_size=args.chunk_size,
           max_sets=args.max_sets, progress_bar=not args.no_progress_bar,
           compile=args.compile)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from geneint.evaluate.evaluate import evaluate_predictions, gene_names

    evaluate_predictions(args.predictions, args.split, args.fold, args.out,
                         strong_threshold=args.strong_threshold,
                         strong_threshold_by_arity=args.strong_threshold_by_arity,
                         table=args.table, names=gene_names(args.sgd_features),
                         class_edges=args.class_edges)


def cmd_interpret(args: argparse.Namespace) -> None:
    from geneint.evaluate.interpret import interpret_dcell

    use_threads(args.threads)
    interpret_dcell(args.checkpoint, args.ontology, args.interactions, args.genes, args.split,
                    args.fold, args.importance, args.activations, max_fit_sets=args.max_fit_sets)


def cmd_aggregate(args: argparse.Namespace) -> None:
    from geneint.report.aggregate import aggregate

    aggregate(args.metrics, args.curves or [], args.results)


def _add_dango_architecture(p: argparse.ArgumentParser, axes: dict) -> None:
    g = p.add_argument_group("DANGO architecture (must match between pretrain and train)")
    add_flags(g, {key: axes[key] for key in ("variant", "dim")}, axes=True)
    g.add_argument("--heads", type=int, default=None,
                   help="attention heads (default: the variant's; spec 4, original 8)")
    g.add_argument("--attention-layers", type=int, default=None,
                   help="self-attention layers (default: the variant's; spec 2, original 1)")
    g.add_argument("--activation", default=None,
                   help="relu (spec) | swish (original) | gelu (default: the variant's)")
    g.add_argument("--recon-hidden", type=int, default=None,
                   help="hidden width of the reconstruction heads (default: the variant's)")
    g.add_argument("--dropout", type=float, default=None, help="attention dropout")
    g.add_argument("--recon-loss", choices=("spec", "original"), default=None,
                   help="weighted MSE over all G entries (spec) or the original's per-row "
                        "means (default: the variant's; variant original always uses its own)")
    g.add_argument("--recon-impl", choices=("sparse", "dense"), default="sparse",
                   help="reconstruction loss: exact closed form at O(nnz) cost (sparse) or the "
                        "(B, G) dense reference (same value; for benchmarks)")


def _add_model_parser(models: argparse._SubParsersAction, spec: ModelSpec) -> None:
    p = models.add_parser(spec.name, help=spec.summary, description=spec.summary)
    g = p.add_argument_group("inputs (canonical files)")
    g.add_argument("--interactions", required=True, help="interactions.parquet")
    g.add_argument("--genes", required=True, help="genes.tsv")
    g.add_argument("--split", required=True, help="splits/<kind>.parquet")
    g.add_argument("--fold", type=int, default=0, help="fold of the split")
    if "graphs" in spec.needs and "metabolism" in spec.needs:  # a set may be metabolism alone
        g.add_argument("--graphs", nargs="*", default=[], help="one .npz per network")
    elif "graphs" in spec.needs:
        g.add_argument("--graphs", nargs="+", required=True, help="one .npz per network")
    if "pretrained" in spec.needs:
        g.add_argument("--pretrained", nargs="*", default=None,
                       help="pretrained.pt per network (omit to train from scratch)")
    if "embeddings" in spec.needs:
        g.add_argument("--embeddings", nargs="+", required=True,
                       help="embeddings.pt per network (from geneint pretrain)")
    elif "embeddings" in spec.needs_when:
        axis, value = spec.needs_when["embeddings"]
        g.add_argument("--embeddings", nargs="*", default=None,
                       help=f"embeddings.pt per network (from geneint pretrain); with "
                            f"--{axis} {value} only")
    if "ontology" in spec.needs:
        g.add_argument("--ontology", required=True,
                       help="ontology.json (from geneint parse ontology)")
    if "metabolism" in spec.needs:
        g.add_argument("--metabolism", default=None,
                       help="folder of `geneint parse metabolism` (gene–reaction and "
                            "reaction–metabolite tables): adds the metabolic relations")
    if "fba_growth" in spec.needs:
        g.add_argument("--growth", nargs="+", required=True,
                       help="deletion growth tables (from geneint fba growth, any chunking)")
    g.add_argument("--out", required=True,
                   help="folder for predictions.parquet, train_summary.json (and, for neural "
                        "models, best.ckpt and metrics.csv)")
    run = p.add_argument_group("run")
    run.add_argument("--seed", type=int, default=0, help="fixes training (and tree) randomness")
    run.add_argument("--threads", type=int, default=1, help="CPU threads / cores to use")
    run.add_argument("--shuffle-labels", action="store_true",
                     help="negative control: permute τ among training and validation sets")
    axes = model_axes(spec.name)
    knobs = {key: node for key, node in axes.items() if key not in spec.input_axes}
    if spec.name == "dango":
        _add_dango_architecture(p, axes)
        knobs = {k: v for k, v in knobs.items() if k not in ("variant", "dim")}
    settings = p.add_argument_group("settings (config " + ", ".join(spec.settings) + ")"
                                    if spec.settings or knobs else "settings")
    add_flags(settings, knobs, axes=True)
    for dotted in spec.settings:
        config_flags(settings, dotted)
    if spec.name == "dango":
        run.add_argument("--freeze-embedding", action="store_true",
                         help="keep the shared embedding table at its pretraining values")
    if spec.runner == "neural":
        run.add_argument("--devices", default="auto",
                         help="processes (GPUs) per node; 'auto' takes them from the launcher "
                              "(srun, torchrun, submitit), else 1")
        run.add_argument("--num-nodes", type=int, default=None,
                         help="nodes; default: from the launcher, else 1")
        run.add_argument("--no-progress-bar", action="store_true")
        run.add_argument("--tensorboard", action="store_true",
                         help="also log to TensorBoard (<out>/tensorboard; needs tensorboard)")
        run.add_argument("--work-dir", default=None,
                         help="resumable checkpoints (default <out>.work; keep outside outputs)")
    p.set_defaults(func=cmd_train, model=spec.name)


def add_model_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pretrain", help="pretrain one network's GNN + reconstruction head")
    p.add_argument("--graph", required=True, help="the network's .npz")
    p.add_argument("--genes", required=True)
    config_flags(p, "pretrain")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-progress-bar", action="store_true")
    p.add_argument("--out", required=True, help="folder for pretrained.pt, embeddings.pt")
    p.add_argument("--work-dir", default=None,
                   help="resumable checkpoints (default <out>.work; keep outside outputs)")
    _add_dango_architecture(p, model_axes("dango"))
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("fba", help="flux balance analysis of gene deletions")
    fba_sub = p.add_subparsers(dest="what", required=True)
    p = fba_sub.add_parser(
        "growth", help="relative growth of one chunk of the deletions the sets need",
        description="Every single, double and triple deletion the interaction sets need "
                    "(restricted to the model's genes) is split into --chunks parts; this "
                    "solves part --chunk, each deletion once, and writes its growth table.")
    p.add_argument("--interactions", required=True, help="interactions.parquet")
    p.add_argument("--model", required=True,
                   help="folder of `geneint parse metabolism` (its model.json)")
    p.add_argument("--chunk", type=int, default=1, help="which part, 1-based")
    config_flags(p, "fba.chunks")
    p.add_argument("--out", required=True, help="growth table (.parquet or .tsv)")
    p.set_defaults(func=cmd_fba_growth)

    p = sub.add_parser("train", help="train one model of the sweep (geneint train <model> -h)",
                       description="Train one model on a split fold; every model writes "
                                   "predictions.parquet (train, val and test sets).")
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    for spec in MODELS.values():
        _add_model_parser(models, spec)

    p = sub.add_parser(
        "submit", help="run `geneint train` as a submitit job (Slurm, or local processes)",
        description="geneint submit [options] -- <geneint train arguments, model first>. One "
                    "task per GPU; devices and nodes reach Lightning from the job's environment.")
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
                   help="-- then the arguments of `geneint train` (model first; with --out)")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser(
        "interpret", help="a trained DCell's term importance (RLIPP) and per-term test outputs",
        description="RLIPP per term: ridge models from the term's neurons and from its inputs "
                    "(children's neurons, direct genes' states), fitted on the training sets and "
                    "scored by Pearson on the test sets; and every term's head on every test set.")
    p.add_argument("--checkpoint", required=True, help="best.ckpt of a trained DCell")
    p.add_argument("--ontology", required=True, help="the ontology.json it was trained on")
    p.add_argument("--interactions", required=True, help="interactions.parquet")
    p.add_argument("--genes", required=True, help="genes.tsv")
    p.add_argument("--split", required=True, help="the split file it was trained on")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--max-fit-sets", type=int, default=20_000,
                   help="training sets the ridge models are fitted on (a seeded sample)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--importance", required=True, help="term_importance.tsv to write")
    p.add_argument("--activations", required=True, help="term_activations.npz to write")
    p.set_defaults(func=cmd_interpret)

    p = sub.add_parser("screen", help="score every pair/triple of a gene set; keep the top k")
    p.add_argument("--checkpoint", required=True, help="best.ckpt of a trained DANGO")
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

    p = sub.add_parser("evaluate", help="metrics.json from predictions.parquet and the split",
                       description="Evaluate any model from its predictions and the split file "
                                   "(no model is loaded): metrics per role, and per arity when "
                                   "pairs and triples are both present.")
    p.add_argument("--predictions", required=True, help="predictions.parquet of a model")
    p.add_argument("--split", required=True, help="the split file the model was trained on")
    p.add_argument("--fold", type=int, default=0)
    config_flags(p, "evaluate")
    p.add_argument("--out", required=True, help="metrics.json")
    p.add_argument("--table", help="also write the predictions as a readable predictions.tsv")
    p.add_argument("--sgd-features", help="SGD_features.tab: standard gene names for --table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("aggregate", help="summary.tsv + plots over every sweep point x seed")
    p.add_argument("--metrics", nargs="+", required=True,
                   help="metrics.json files under …/<key>~<value>/…/seed<k>/")
    p.add_argument("--curves", nargs="*", help="training metrics.csv files (same layout)")
    p.add_argument("--results", required=True,
                   help="folder for summary.tsv, summary_by_point.tsv, plots/")
    p.set_defaults(func=cmd_aggregate)
