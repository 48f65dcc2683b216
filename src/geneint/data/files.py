"""Shared plumbing of the data layer: reading raw text safely, QC reports, atomic writes.

Every raw reader in :mod:`geneint.data` goes through :func:`iter_lines`, so that a wrong
encoding or a truncated gzip is reported the same way everywhere: as an
:class:`InputFormatError` naming the file, the 1-based line and the problem.
"""

from __future__ import annotations

import codecs
import gzip
import json
import logging
import os
import re
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

PathLike = str | os.PathLike

#: Systematic names of S. cerevisiae genes: nuclear ORFs (``YAL001C``, ``YAL068W-A``),
#: mitochondrial (``Q0045``) and 2-micron plasmid (``R0010W``) genes. All 6,400 STRING v9.1
#: genes of the DANGO release and all 6,604 SGD ORFs match it.
ORF_PATTERN = re.compile(r"^(?:Y[A-P][LR]\d{3}[WC](?:-[A-Z])?|Q\d{4}|R\d{4}[WC])$")

#: The HO locus: a neutral marker in SGA query strains (``hoΔ``), never a perturbed gene.
HO_MARKER = "YDL227C"


class InputFormatError(ValueError):
    """A raw input file does not have the published format.

    The message always reads ``<path>:<line>: <problem>`` (line 0 = the file as a whole), so a
    user can jump to the offending line.
    """

    def __init__(self, path: PathLike, line: int, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}")


def is_orf(name: str) -> bool:
    """True for a syntactically valid yeast systematic gene name."""
    return bool(ORF_PATTERN.match(name))


def _sniff_encoding(head: bytes) -> tuple[str, int]:
    """Return (codec, bytes of BOM to skip) from the first bytes of a text file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    return "utf-8", 0


_NUL_PROBLEM = ("NUL bytes in text: the file looks like UTF-16 without a byte-order mark; "
                "save it as UTF-8 (or UTF-16 with BOM)")


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` of a text file, without the line terminator.

    Handles gzip (by magic number, whatever the suffix), UTF-8 with or without BOM and UTF-16
    with BOM. Raises :class:`InputFormatError` with the line number on undecodable bytes or a
    truncated/corrupt gzip stream, instead of the bare ``UnicodeDecodeError``/``EOFError``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as raw:
        try:
            head = raw.read(4)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputFormatError(path, 1, f"corrupt or truncated gzip stream ({exc})") from exc
        encoding, skip = _sniff_encoding(head)
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        pending = head[skip:]
        buffer = ""
        lineno = 0
        while True:
            try:
                chunk = raw.read(1 << 20)
            except (EOFError, OSError, zlib.error) as exc:
                raise InputFormatError(
                    path, lineno + buffer.count("\n") + 1,
                    f"corrupt or truncated gzip stream ({exc}); re-download the file",
                ) from exc
            data = pending + chunk
            pending = b""
            try:
                text = decoder.decode(data, final=not chunk)
            except UnicodeDecodeError as exc:
                good = data[: exc.start].decode(encoding, errors="replace")
                bad_line = lineno + (buffer + good).count("\n") + 1
                raise InputFormatError(
                    path, bad_line,
                    f"cannot decode byte {data[exc.start:exc.start + 1]!r} as {encoding}; "
                    "expected UTF-8, or UTF-16 with a byte-order mark",
                ) from exc
            buffer += text
            *complete, buffer = buffer.split("\n")
            for line in complete:
                lineno += 1
                if "\x00" in line:
                    raise InputFormatError(path, lineno, _NUL_PROBLEM)
                yield lineno, line.rstrip("\r")
            if not chunk:
                break
        if buffer:
            if "\x00" in buffer:
                raise InputFormatError(path, lineno + 1, _NUL_PROBLEM)
            yield lineno + 1, buffer.rstrip("\r")


class QCReport:
    """Counts of what a reader kept and filtered, written next to its output as JSON.

    Nothing is dropped silently: every filter increments a named counter, and a few examples
    of each filtered kind are kept so that a user can look them up in the raw file.
    """

    max_examples = 5

    def __init__(self, source: PathLike | list[PathLike]) -> None:
        sources = source if isinstance(source, list) else [source]
        self.sources = [str(s) for s in sources]
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.info: dict[str, Any] = {}

    def count(self, key: str, n: int = 1, example: str | None = None) -> None:
        self.counts[key] += n
        if example is not None:
            bucket = self.examples.setdefault(key, [])
            if len(bucket) < self.max_examples:
                bucket.append(example)

    def merge(self, other: QCReport, prefix: str = "") -> None:
        for key, n in other.counts.items():
            self.counts[prefix + key] += n
        for key, ex in other.examples.items():
            self.examples.setdefault(prefix + key, []).extend(ex[: self.max_examples])
        for key, value in other.info.items():
            self.info[prefix + key] = value
        self.sources.extend(s for s in other.sources if s not in self.sources)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "counts": dict(sorted(self.counts.items())),
            "examples": self.examples,
            **({"info": self.info} if self.info else {}),
        }

    def write(self, path: PathLike) -> None:
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        log.info("QC report: %s", path)

    def log_summary(self) -> None:
        for key, n in sorted(self.counts.items()):
            log.info("%s: %s", key, f"{n:,}")


def qc_path_for(output: PathLike) -> Path:
    """The QC report that belongs to an output file: ``<output>.qc.json``."""
    output = Path(output)
    return output.with_name(output.name + ".qc.json")


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A job killed part-way then never leaves a half-written file that looks complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    # mkstemp creates 0600; give the final file the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet_atomic(frame: pd.DataFrame, path: PathLike) -> None:
    """Write a DataFrame as Parquet atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        frame.to_parquet(tmp, index=False)


def require_columns(frame: pd.DataFrame, columns: list[str], path: PathLike) -> None:
    """Raise naming the file when a canonical table misses columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputFormatError(
            path, 0, f"missing column(s) {missing}; found {list(frame.columns)}"
        )
