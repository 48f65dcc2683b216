"""Data stages of the CLI: synthetic data, downloads, parsing, the gene index, graphs, splits.

Flags that mirror config keys take their type, choices and default from the config schema
(:mod:`geneint.schema`), so a stage run by hand behaves as the workflow's rule.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from geneint.schema import add_flags, config_flags, model_axes

log = logging.getLogger("geneint")


def cmd_synth(args: argparse.Namespace) -> None:
    from geneint.data.synthetic import synthesize

    synthesize(Path(args.out), seed=args.seed, scale=args.scale, noise_sd=args.noise_sd)


def cmd_download(args: argparse.Namespace) -> None:
    from geneint.data.download import Source, fetch

    source = Source(name=args.name, url=args.url, sha256=args.sha256 or None,
                    extract=args.extract, local=args.local)
    fetch(source, args.out, allow_unpinned=args.allow_unpinned)


def cmd_parse_string(args: argparse.Namespace) -> None:
    from geneint.data.canonical import write_edges
    from geneint.data.files import QCReport, qc_path_for
    from geneint.data.string import read_string_links

    qc = QCReport(args.raw)
    edges = read_string_links(args.raw, channels=tuple(args.channels), qc=qc)
    write_edges(edges, args.out)
    qc.log_summary()
    qc.write(qc_path_for(args.out))


def cmd_parse_dango(args: argparse.Namespace) -> None:
    from geneint.data.canonical import write_edges
    from geneint.data.dango_networks import read_dango_networks
    from geneint.data.files import QCReport, qc_path_for

    adjacency = dict(item.split("=", 1) for item in args.adjacency)
    qc = QCReport([args.genes, *adjacency.values()])
    edges = read_dango_networks(args.genes, adjacency, qc=qc)
    write_edges(edges, args.out)
    qc.log_summary()
    qc.write(qc_path_for(args.out))


def cmd_genes(args: argparse.Namespace) -> None:
    import pandas as pd

    from geneint.data.canonical import read_edges, write_gene_index
    from geneint.data.dango_networks import read_dango_genes
    from geneint.data.files import QCReport, qc_path_for
    from geneint.data.genes import build_gene_universe, read_sgd_features

    qc = QCReport([*(args.sgd or []), *args.string, *([args.gene_list] if args.gene_list else [])])
    sgd_genes = None
    if args.sgd:
        sgd_genes = read_sgd_features(args.sgd[0], qualifiers=args.sgd_qualifiers, qc=qc)["gene"]
    string_genes = None
    if args.string:
        edges = pd.concat([read_edges(p) for p in args.string])
        string_genes = set(edges["gene_a"]) | set(edges["gene_b"])
        qc.info["string_genes"] = len(string_genes)
    network_genes = read_dango_genes(args.gene_list) if args.gene_list else None
    genes = build_gene_universe(args.universe, sgd_genes, string_genes, network_genes)
    if sgd_genes is not None and string_genes is not None:
        qc.count("sgd_genes_not_in_string", len(set(sgd_genes) - string_genes))
        qc.count("string_genes_not_in_sgd", len(string_genes - set(sgd_genes)))
    qc.info.update(universe=args.universe, genes=len(genes))
    write_gene_index(genes, args.out)
    log.info("gene index: %d genes (%s) -> %s", len(genes), args.universe, args.out)
    qc.write(qc_path_for(args.out))


def cmd_parse_interactions(args: argparse.Namespace) -> None:
    from geneint.data.canonical import read_gene_index, write_interactions
    from geneint.data.files import qc_path_for
    from geneint.data.interactions import build_interactions

    kinds = ("kuzmin2018", "kuzmin2020", "costanzo2016_sga", "dcell_train", "dcell_test")
    sources = [(kind, Path(p)) for kind in kinds for p in (getattr(args, kind) or [])]
    if not sources:
        raise SystemExit("parse interactions: give at least one of --kuzmin2018, "
                         "--kuzmin2020, --costanzo2016-sga, --dcell-train/--dcell-test")
    universe = set(read_gene_index(args.genes))
    frame, qc = build_interactions(
        sources, universe=universe, unknown_genes=args.unknown_genes,
        duplicate_rule=args.duplicates, arities=tuple(args.arities),
        truth=Path(args.truth) if args.truth else None,
    )
    write_interactions(frame, args.out)
    qc.info.update(sets=len(frame), by_arity=frame["arity"].value_counts().sort_index()
                   .to_dict())
    qc.log_summary()
    qc.write(qc_path_for(args.out))


def cmd_parse_ontology(args: argparse.Namespace) -> None:
    from geneint.data.canonical import read_gene_index
    from geneint.data.files import QCReport, qc_path_for
    from geneint.data.ontology import read_dcell_topology, write_ontology
    from geneint.data.ontology_filters import build_go_ontology, filter_ontology

    if bool(args.obo) != bool(args.gaf):
        args._parser.error("--obo and --gaf go together (or give --topology alone)")
    genes = read_gene_index(args.genes)
    if args.topology:
        qc = QCReport([args.topology, args.genes])
        ontology = filter_ontology(read_dcell_topology(args.topology), genes,
                                   min_genes=args.min_genes, qc=qc)
    else:
        qc = QCReport([args.obo, args.gaf, args.genes])
        ontology = build_go_ontology(
            args.obo, args.gaf, genes, namespaces=args.namespaces, relations=args.relations,
            drop_evidence=args.drop_evidence, min_genes=args.min_genes,
            annotation_date_max=args.annotation_date_max, qc=qc)
    write_ontology(ontology, args.out)
    qc.info["ontology"] = ontology.counts()
    qc.log_summary()
    for stage in qc.info["stages"]:
        log.info("%-10s %6d terms %6d edges %7d annotations %5d genes", stage["stage"],
                 stage["terms"], stage["edges"], stage["annotations"], stage["genes"])
    log.info("ontology: %(terms)d terms, %(genes)d genes, %(strata)d strata", ontology.counts())
    log.info("-> %s", args.out)
    qc.write(qc_path_for(args.out))


#: ``geneint parse network --source``: the reader of each network source.
NETWORK_READERS = {"biogrid": "geneint.data.biogrid:read_biogrid_tab3",
                   "regulation": "geneint.data.regulation:read_regulation",
                   "tflink": "geneint.data.tflink:read_tflink"}


def cmd_parse_network(args: argparse.Namespace) -> None:
    import importlib

    from geneint.data.canonical import read_gene_index
    from geneint.data.files import QCReport, qc_path_for
    from geneint.data.networks import standard_name_map, write_network_table

    module, function = NETWORK_READERS[args.source].split(":")
    reader = getattr(importlib.import_module(module), function)
    genes = read_gene_index(args.genes)
    qc = QCReport([args.raw, args.genes, *([args.sgd_features] if args.sgd_features else [])])
    if args.source == "biogrid":  # BioGRID names interactors by systematic name
        table = reader(args.raw, genes, qc)
    else:
        sgd_names = None
        if args.sgd_features:
            from geneint.data.genes import read_sgd_features

            sgd_names = standard_name_map(read_sgd_features(args.sgd_features))
        else:
            log.warning("no --sgd-features: only names that are ORFs can be mapped")
        table = reader(args.raw, genes, sgd_names, qc)
    write_network_table(table, args.out)
    qc.info["edges"] = table.groupby("network").size().to_dict()
    qc.log_summary()
    log.info("%s: %s -> %s", args.source, qc.info["edges"], args.out)
    qc.write(qc_path_for(args.out))


def cmd_parse_metabolism(args: argparse.Namespace) -> None:
    from geneint.data.canonical import read_gene_index
    from geneint.data.files import QCReport
    from geneint.data.metabolism import gem_relations, load_gem, write_metabolism

    genes = read_gene_index(args.genes)
    qc = QCReport([args.gem, args.genes])
    model = load_gem(args.gem)
    tables = gem_relations(model, genes, qc)
    write_metabolism(tables, model, args.out)
    qc.log_summary()
    qc.write(Path(args.out) / "metabolism.qc.json")


def channel_lambda(text: str) -> tuple[str, float]:
    """``coexpression=0.1`` → (``coexpression``, 0.1), as the config schema bounds it."""
    from geneint.data.canonical import STRING_CHANNELS
    from geneint.graphs.sets import NETWORK_SOURCES

    channel, sep, value = text.partition("=")
    names = (*STRING_CHANNELS, *NETWORK_SOURCES)
    if not sep or channel not in names:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected NAME=λ with NAME a STRING channel or network, one of "
            f"{', '.join(names)}")
    try:
        lam = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: λ {value!r} is not a number") from None
    if not 0 < lam <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: λ must be in (0, 1]")
    return channel, lam


def cmd_graphs_build(args: argparse.Namespace) -> None:
    from geneint.data.canonical import read_edges, read_gene_index
    from geneint.data.files import QCReport, qc_path_for
    from geneint.graphs.network import (
        build_network_graph,
        build_source_network_graph,
        write_graph,
    )
    from geneint.graphs.sets import is_string_network

    genes = read_gene_index(args.genes)
    qc = QCReport(list(args.edges))
    configured = dict(args.lambda_config or [])
    if is_string_network(args.network):
        if len(args.releases or []) != len(args.edges):
            raise SystemExit("graphs build: give one --releases value per STRING --edges file")
        edges = {release: read_edges(path) for release, path in zip(args.releases, args.edges)}
        graph = build_network_graph(args.network, args.releases, edges, genes,
                                    configured_lambda=configured, lambda_mode=args.lambda_mode,
                                    qc=qc)
    else:
        from geneint.data.networks import read_network_table

        if len(args.edges) != 1 or args.releases:
            raise SystemExit(f"graphs build: {args.network} takes one --edges network table "
                             "and no --releases")
        graph = build_source_network_graph(args.network, read_network_table(args.edges[0]),
                                           genes, configured_lambda=configured,
                                           lambda_mode=args.lambda_mode, qc=qc)
    write_graph(graph, args.out)
    qc.write(qc_path_for(args.out))
    log.info("%s: %d edges over %d genes, λ = %s (%s)", graph.name, graph.num_edges,
             graph.num_nodes, graph.lam, graph.meta["lambda_source"])


def cmd_split(args: argparse.Namespace) -> None:
    from geneint.data.canonical import read_interactions
    from geneint.data.splits import make_split, write_split

    table, summary = make_split(read_interactions(args.interactions), args.kind, seed=args.seed,
                                folds=args.folds, val_fraction=args.val_fraction,
                                heldout_genes=args.heldout_genes, arities=tuple(args.arities),
                                validation=args.validation)
    write_split(table, summary, args.out)
    log.info("%s split: %s", args.kind, summary["roles"])


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    from geneint.data.canonical import STRING_CHANNELS
    from geneint.data.splits import SPLIT_KINDS

    p = sub.add_parser("synth", help="write the synthetic demo raw data in published formats")
    p.add_argument("--out", required=True, help="folder for string/, kuzmin2018/, sgd/, truth/")
    config_flags(p, "data.synthetic")
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
    p.add_argument("--gene-list", default=None,
                   help="the networks' gene list, one ORF per line (DANGO's "
                        "yeast_string_genes.txt; universe network_genes)")
    config_flags(p, "genes.universe")
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

    p = parse_sub.add_parser("dango-networks",
                             help="DANGO's per-channel adjacency files -> edges .parquet")
    p.add_argument("--genes", required=True,
                   help="yeast_string_genes.txt (line i = node id i of the adjacency files)")
    p.add_argument("--adjacency", nargs="+", required=True, metavar="CHANNEL=FILE",
                   help="yeast_string_<channel>_adjacency.txt per channel, e.g. "
                        "fusion=yeast_string_fusion_adjacency.txt")
    p.add_argument("--out", required=True, help="canonical edge table, as a parsed STRING release")
    p.set_defaults(func=cmd_parse_dango)

    p = parse_sub.add_parser("interactions", help="Kuzmin/Costanzo -> interactions.parquet")
    p.add_argument("--kuzmin2018", nargs="*", help="Data S1 .tsv")
    p.add_argument("--kuzmin2020", nargs="*", help="Table S1/S3 .xlsx")
    p.add_argument("--costanzo2016-sga", dest="costanzo2016_sga", nargs="*",
                   help="SGA_*.txt pair tables")
    p.add_argument("--dcell-train", nargs="*",
                   help="DCell training file(s) (<n> <ORF>… <score>): published train sets")
    p.add_argument("--dcell-test", nargs="*",
                   help="DCell testing file(s): published test sets (split kind published)")
    p.add_argument("--genes", required=True, help="genes.tsv: the gene universe")
    config_flags(p, "interactions")
    p.add_argument("--truth", default=None, help="noise-free τ TSV (synthetic data)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_parse_interactions)

    p = parse_sub.add_parser(
        "ontology", help="GO OBO + GAF, or a DCell topology file -> ontology.json",
        description="Build DCell's ontology over the gene universe: from go-basic.obo and a GAF "
                    "(--obo/--gaf, all filters) or from a DCell topology file (--topology, only "
                    "restricted to the genes and filtered by redundancy and --min-genes).")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--obo", help="go-basic.obo (OBO 1.2); needs --gaf")
    source.add_argument("--topology", help="DCell topology file (ROOT:/GENES:/TERMS: lines)")
    p.add_argument("--gaf", help="GAF 2.x annotations (sgd.gaf.gz); with --obo")
    p.add_argument("--genes", required=True, help="genes.tsv: the gene universe")
    config_flags(p.add_argument_group("filters (config section ontology)"), "ontology")
    p.add_argument("--out", required=True, help="ontology.json (QC report beside it)")
    p.set_defaults(func=cmd_parse_ontology, _parser=p)

    p = parse_sub.add_parser(
        "network", help="BioGRID / YEASTRACT / TFLink file -> canonical network table",
        description="Read one gene-gene network source into the canonical network table "
                    "(physical and genetic from BioGRID; regulatory from YEASTRACT; tflink from "
                    "TFLink), restricted to the gene universe; every dropped row is counted in "
                    "the QC report beside the output.")
    p.add_argument("--source", required=True, choices=sorted(NETWORK_READERS))
    p.add_argument("--raw", required=True, help="the published file, as downloaded")
    p.add_argument("--genes", required=True, help="genes.tsv: the gene universe")
    p.add_argument("--sgd-features", default=None,
                   help="SGD_features.tab: standard names -> systematic names (YEASTRACT, "
                        "TFLink)")
    p.add_argument("--out", required=True, help="network table .parquet")
    p.set_defaults(func=cmd_parse_network)

    p = parse_sub.add_parser(
        "metabolism", help="metabolic model (Yeast-GEM SBML/YAML/JSON) -> relation tables",
        description="Read a genome-scale metabolic model with cobrapy into typed relations: "
                    "gene-reaction (GPR), reaction-metabolite (stoichiometry) and the gene "
                    "pairs that share a reaction (network metabolism), plus model.json for FBA.")
    p.add_argument("--gem", required=True, help="yeast-GEM.xml (SBML), .yml or .json")
    p.add_argument("--genes", required=True, help="genes.tsv: the gene universe")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_parse_metabolism)

    p = sub.add_parser("graphs", help="network graphs over the gene index")
    graphs_sub = p.add_subparsers(dest="what", required=True)
    p = graphs_sub.add_parser("build", help="one network -> .npz (edge_index, weight, λ)")
    p.add_argument("--network", required=True,
                   help="string_v<release>_<channel>, or physical, genetic, regulatory, tflink, "
                        "metabolism")
    p.add_argument("--edges", nargs="+", required=True,
                   help="STRING edge tables, oldest first; or the network's canonical network "
                        "table")
    p.add_argument("--releases", nargs="+", default=None,
                   help="the STRING tables' releases, same order (STRING networks only)")
    p.add_argument("--genes", required=True)
    add_flags(p, {"lambda_mode": model_axes("dango")["lambda_mode"]}, axes=True)
    p.add_argument("--lambda-config", nargs="*", metavar="CHANNEL=λ", type=channel_lambda,
                   help="configured λ per channel, e.g. coexpression=0.1")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_graphs_build)

    p = sub.add_parser("split", help="seeded train/val/test split of the interaction sets")
    p.add_argument("--interactions", required=True)
    p.add_argument("--kind", choices=SPLIT_KINDS, required=True,
                   help="random (k-fold), gene1, gene2, or published (the data's own split)")
    config_flags(p, "split")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_split)

