"""The single-cell perturbation study's stages: ``geneint perturbation <stage> …``.

- ``synth``: the synthetic Perturb-seq data set (raw ``.h5ad``, Replogle layout) and its true
  graph (``true_graph.tsv``).
- ``prepare``: a raw data set → the canonical ``cells.h5ad`` (CausalBench's preprocessing), the
  stratified ``split.tsv`` and a QC report.
- ``infer``: one model × training regime × seed → ``edges.tsv`` (ranked directed edges) and
  ``inference.json``.
- ``evaluate``: ``edges.tsv`` + the held-out cells → ``metrics.json`` and ``scored_edges.tsv``.
- ``aggregate``: every ``metrics.json`` → ``summary.tsv``, ``summary_by_model.tsv`` and plots.

The response task (GEARS' layout, split and metrics):

- ``synth-response``: the synthetic data with single and double knock-downs
  (``perturb_processed.h5ad``), gene feature views and a biotype table.
- ``prepare-response``: a GEARS-layout file → the checked copy with its DE rankings, and
  GEARS' simulation split of perturbations (``split.tsv``).
- ``predict``: one response model × seed → ``predictions.h5ad`` (mean profiles of the
  validation and held-out perturbations) and ``prediction.json``.
- ``evaluate-response``: predictions → ``metrics.json`` and ``per_perturbation.tsv``.
- ``aggregate-response``: every response ``metrics.json`` → summary tables and plots.

Flags default to the config schema's ``perturbation`` section, so a stage run by hand does what
the workflow does.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from geneint.cli.threads import use_threads
from geneint.schema import config_choices, config_flags

log = logging.getLogger("geneint")


def _section(args: argparse.Namespace, dotted: str) -> dict:
    from geneint.schema import config_node

    return {key: getattr(args, key) for key in config_node(f"perturbation.{dotted}")["properties"]}


def cmd_synth(args: argparse.Namespace) -> None:
    from geneint.data.files import atomic_output
    from geneint.data.single_cell.ground_truth import write_edge_table
    from geneint.data.single_cell.synthetic import SyntheticSettings, synthesize

    adata, edges = synthesize(SyntheticSettings(**_section(args, "synthetic")))
    out = Path(args.out)
    with atomic_output(out / "cells.h5ad") as tmp:
        adata.write_h5ad(tmp)
    write_edge_table(edges, out / "true_graph.tsv")
    log.info("%d cells × %d genes, %d true edges → %s", adata.n_obs, adata.n_vars, len(edges),
             out)


def cmd_prepare(args: argparse.Namespace) -> None:
    from geneint.data.single_cell.anndata_io import Columns
    from geneint.data.single_cell.preprocess import PreprocessSettings, prepare

    prepare(args.dataset, args.raw, PreprocessSettings(**_section(args, "preprocess")),
            Columns(**_section(args, "columns")), args.test_fraction, args.seed, args.out,
            args.split, args.summary)


def cmd_infer(args: argparse.Namespace) -> None:
    from geneint.data.single_cell.anndata_io import read_cells
    from geneint.data.single_cell.preprocess import read_split
    from geneint.train.grn import infer_network, training_cells, write_network

    if args.model == "catran":  # torch's threads; the baselines never import torch
        use_threads(args.threads)
    cells = read_cells(args.cells)
    roles = read_split(args.split, cells.n_obs)
    train = training_cells(cells, roles, args.regime, args.seed)
    settings = {"catran": _section(args, "catran"), "correlation": _section(args, "correlation")}
    edges, summary = infer_network(args.model, train, args.edges, args.orientation, args.seed,
                                   settings, Path(args.out).parent / "training")
    summary["regime"] = args.regime
    write_network(edges, list(cells.var_names), summary, Path(args.out))


def cmd_evaluate(args: argparse.Namespace) -> None:
    from geneint.evaluate.network import evaluate_network

    metrics = evaluate_network(args.edges, args.cells, args.split, args.out,
                               _section(args, "evaluate"), args.dataset, args.true_graph)
    log.info("%s", json.dumps(metrics["statistical"]))


def cmd_aggregate(args: argparse.Namespace) -> None:
    from geneint.report.perturbation import aggregate_networks

    aggregate_networks(args.metrics, Path(args.results))


def cmd_synth_response(args: argparse.Namespace) -> None:
    from geneint.data.single_cell.synthetic import SyntheticSettings
    from geneint.data.single_cell.synthetic_response import (
        ResponseSyntheticSettings,
        write_synthetic_response,
    )

    write_synthetic_response(
        SyntheticSettings(**_section(args, "synthetic")),
        ResponseSyntheticSettings(**_section(args, "response.synthetic")), Path(args.out))


def cmd_prepare_response(args: argparse.Namespace) -> None:
    from geneint.data.single_cell.gears_format import prepare_response_data
    from geneint.data.single_cell.response_split import (
        ResponseSplitSettings,
        split_perturbations,
        write_response_split,
    )

    prepared, _ = prepare_response_data(args.raw, args.out)
    split = split_perturbations(prepared.obs["condition"],
                                ResponseSplitSettings(**_section(args, "response.split")))
    write_response_split(split, args.split)
    log.info("%s", split.groupby(["split", "subgroup"]).size().to_dict())


def cmd_predict(args: argparse.Namespace) -> None:
    from geneint.train.response import predict_response

    if args.model == "grape":
        use_threads(args.threads)
    features = {"description": args.description, "sequence": args.sequence}
    summary = predict_response(args.model, args.data, args.split, args.seed,
                               {"grape": _section(args, "response.grape")}, features,
                               args.biotypes, args.out)
    log.info("%s", json.dumps(summary, default=str))


def cmd_evaluate_response(args: argparse.Namespace) -> None:
    from geneint.evaluate.perturbation_response import evaluate_response

    metrics = evaluate_response(args.predictions, args.data, args.split, args.out)
    log.info("%s", json.dumps(metrics["overall"], default=float))


def cmd_aggregate_response(args: argparse.Namespace) -> None:
    from geneint.report.response import aggregate_responses

    aggregate_responses(args.metrics, Path(args.results))


def add_response_commands(stages: argparse._SubParsersAction) -> None:
    p = stages.add_parser("synth-response",
                          help="synthetic single + double knock-downs in GEARS' layout")
    config_flags(p, "perturbation.synthetic")
    config_flags(p, "perturbation.response.synthetic")
    p.add_argument("--out", required=True,
                   help="folder for perturb_processed.h5ad, true_graph.tsv, description.tsv,"
                        " sequence.tsv and biotypes.tsv")
    p.set_defaults(func=cmd_synth_response)

    p = stages.add_parser("prepare-response",
                          help="GEARS-layout .h5ad → checked copy + DE rankings + split.tsv")
    p.add_argument("--raw", required=True, help="perturb_processed.h5ad (GEARS layout)")
    config_flags(p, "perturbation.response.split")
    p.add_argument("--out", required=True, help="the prepared perturb_processed.h5ad")
    p.add_argument("--split", required=True, help="split.tsv (condition, split, subgroup)")
    p.set_defaults(func=cmd_prepare_response)

    p = stages.add_parser("predict", help="one response model × seed → predictions.h5ad")
    p.add_argument("--model", required=True,
                   choices=config_choices("perturbation.response.models"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", required=True, help="the prepared perturb_processed.h5ad")
    p.add_argument("--split", required=True, help="split.tsv of prepare-response")
    p.add_argument("--description", default=None, help="gene description features (TSV)")
    p.add_argument("--sequence", default=None, help="gene sequence features (TSV)")
    p.add_argument("--biotypes", default=None, help="biotype table (TSV gene_name, biotype)")
    config_flags(p, "perturbation.response.grape")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True,
                   help="predictions.h5ad (prediction.json and training/ beside)")
    p.set_defaults(func=cmd_predict)

    p = stages.add_parser("evaluate-response", help="GEARS' metrics of one predictions.h5ad")
    p.add_argument("--predictions", required=True)
    p.add_argument("--data", required=True, help="the prepared perturb_processed.h5ad")
    p.add_argument("--split", required=True, help="split.tsv (its test perturbations)")
    p.add_argument("--out", required=True, help="metrics.json (per_perturbation.tsv beside)")
    p.set_defaults(func=cmd_evaluate_response)

    p = stages.add_parser("aggregate-response",
                          help="every response metrics.json → summary tables and plots")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--results", required=True, help="folder for the summary and plots/")
    p.set_defaults(func=cmd_aggregate_response)


def add_perturbation_commands(sub: argparse._SubParsersAction) -> None:
    top = sub.add_parser("perturbation", help="the single-cell perturbation study's stages",
                         description=__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    stages = top.add_subparsers(dest="stage", required=True)

    p = stages.add_parser("synth", help="synthetic Perturb-seq data with a known causal graph")
    config_flags(p, "perturbation.synthetic")
    p.add_argument("--out", required=True, help="folder for cells.h5ad and true_graph.tsv")
    p.set_defaults(func=cmd_synth)

    p = stages.add_parser("prepare", help="raw .h5ad → cells.h5ad + split.tsv (CausalBench)")
    config_flags(p, "perturbation.dataset")
    p.add_argument("--raw", default=None, help="the raw .h5ad (not for krumsiek11)")
    p.add_argument("--summary", default=None,
                   help="Replogle's summary table (.xlsx) for --strong-perturbations")
    config_flags(p, "perturbation.columns")
    config_flags(p, "perturbation.preprocess")
    config_flags(p, "perturbation.split")
    p.add_argument("--out", required=True, help="cells.h5ad")
    p.add_argument("--split", required=True, help="split.tsv")
    p.set_defaults(func=cmd_prepare)

    p = stages.add_parser("infer", help="one network model × regime × seed → edges.tsv")
    p.add_argument("--model", required=True, choices=config_choices("perturbation.models"))
    p.add_argument("--regime", default="interventional",
                   help="observational, partial<fraction> (e.g. partial0.5) or interventional")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cells", required=True, help="cells.h5ad")
    p.add_argument("--split", required=True, help="split.tsv")
    config_flags(p, "perturbation.edges")
    config_flags(p, "perturbation.orientation")
    config_flags(p, "perturbation.catran")
    config_flags(p, "perturbation.correlation")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="edges.tsv (inference.json is written beside)")
    p.set_defaults(func=cmd_infer)

    p = stages.add_parser("evaluate", help="CausalBench's evaluation of one edges.tsv")
    p.add_argument("--edges", required=True)
    p.add_argument("--cells", required=True, help="cells.h5ad")
    p.add_argument("--split", required=True, help="split.tsv (its test cells are used)")
    config_flags(p, "perturbation.dataset")
    p.add_argument("--true-graph", default=None, help="true_graph.tsv of synthetic data")
    config_flags(p, "perturbation.evaluate")
    p.add_argument("--out", required=True, help="metrics.json (scored_edges.tsv beside)")
    p.set_defaults(func=cmd_evaluate)

    p = stages.add_parser("aggregate", help="every metrics.json → summary tables and plots")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--results", required=True, help="folder for the summary and plots/")
    p.set_defaults(func=cmd_aggregate)

    add_response_commands(stages)
