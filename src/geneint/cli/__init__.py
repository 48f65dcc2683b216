"""The one entry point: ``geneint <stage> …``. Each subcommand parses flags, sets up logging
and seeds, and calls one function of the package; Snakemake rules call these subcommands.

Files in and out:

- ``synth``: writes a raw data set in the published formats (STRING ``.txt.gz`` ×2 releases,
  Kuzmin 2018 Data S1 ``.tsv``, ``SGD_features.tab``) plus ``truth/`` (noise-free τ).
- ``download``: one raw file from a URL (or ``--local`` copy), sha256-verified.
- ``parse string``: STRING ``protein.links.detailed`` → canonical edge table (``.parquet``).
- ``parse dango-networks``: DANGO's per-channel adjacency files → the same edge table.
- ``genes``: ``SGD_features.tab``, STRING edge tables or a gene list → ``genes.tsv``.
- ``parse interactions``: Kuzmin/Costanzo/DCell raw tables → ``interactions.parquet``.
- ``graphs build``: STRING edge tables + ``genes.tsv`` → one network's ``.npz`` (with its λ).
- ``split``: ``interactions.parquet`` → ``splits/<kind>.parquet`` (set → fold, role).
- ``pretrain``: one network's ``.npz`` → ``pretrained.pt``, ``embeddings.pt``, ``metrics.csv``.
- ``train <model>``: sets, split (and what the model needs) → ``predictions.parquet``,
  ``train_summary.json`` (neural models also ``best.ckpt``, ``metrics.csv``).
- ``evaluate``: ``predictions.parquet`` + split → ``metrics.json``.
- ``aggregate``: every ``metrics.json`` → ``summary.tsv``, ``summary_by_point.tsv``, plots.
- ``screen``: a trained DANGO → the top-k gene sets of a gene set.
- ``perturbation …``: the single-cell study (synth, prepare, infer, evaluate, aggregate).

Every output that filters rows gets a QC report beside it (``<output>.qc.json``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from geneint.cli.data_commands import add_data_commands
from geneint.cli.model_commands import add_model_commands
from geneint.cli.perturbation_commands import add_perturbation_commands
from geneint.cli.threads import prefer_sleeping_threads

log = logging.getLogger("geneint")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geneint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    add_data_commands(sub)
    add_model_commands(sub)
    add_perturbation_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    prefer_sleeping_threads()
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        if args.verbose:
            raise
        from geneint.data.files import InputFormatError

        # A bad or missing input file's error already names the file (and line and problem):
        # one line says it all. Anything else (a CUDA/NCCL failure, a bug) keeps its
        # traceback for the log — written first, so a job log's last line is the message.
        if not isinstance(exc, (InputFormatError, FileNotFoundError)):
            log.error("%s", "".join(traceback.format_exception(exc)).rstrip())
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
