"""The one entry point: ``geneint <stage> …``. Each subcommand parses flags, sets up logging
and seeds, and calls one function of the package; Snakemake rules call these subcommands.

Files in and out (see ARCHITECTURE.md):

- ``synth``: writes a raw data set in the published formats (STRING ``.txt.gz`` ×2 releases,
  Kuzmin 2018 Data S1 ``.tsv``, ``SGD_features.tab``) plus ``truth/`` (noise-free τ).
- ``download``: one raw file from a URL (or ``--local`` copy), sha256-verified.
- ``parse string``: STRING ``protein.links.detailed`` → canonical edge table (``.parquet``).
- ``genes``: ``SGD_features.tab`` and/or STRING edge tables → ``genes.tsv``.
- ``parse interactions``: Kuzmin/Costanzo raw tables → ``interactions.parquet``.

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
