"""Hash-pinned downloads of the raw files, with an offline mode that takes local copies.

Every raw file has a URL and a sha256 in the config. :func:`fetch` downloads it with pooch
(to a temporary file that is only moved into place once the hash matches), or, offline, copies a
local file after checking the same hash. After the hash, the container itself is checked (a
gzip is read to its end, a zip's CRCs are tested), so a truncated file never reaches a reader.

Unpinned sources (``sha256: null``) are refused unless the caller opts in with
``allow_unpinned``; the hash that was then found is logged and written to ``<file>.sha256`` so
the user can pin it.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pooch

from geneint.data.files import PathLike, write_text_atomic

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """A raw file could not be fetched, or what was fetched is not what the config pins."""


@dataclass(frozen=True)
class Source:
    """One raw file as the config describes it.

    Attributes:
        name: short name used in messages (``string_v12.0``, ``kuzmin2018``).
        url: where the published file lives.
        sha256: expected hex digest of the downloaded file, or None if not yet pinned.
        extract: member of a zip archive to extract (the pinned hash is the archive's).
        local: a local copy to use instead of the URL (offline mode).
    """

    name: str
    url: str
    sha256: str | None = None
    extract: str | None = None
    local: str | None = None


def _check_hash(path: Path, source: Source, allow_unpinned: bool) -> str:
    """Verify ``path`` against the pinned hash and return the hash found."""
    actual = pooch.file_hash(str(path), alg="sha256")
    if source.sha256 is None:
        if not allow_unpinned:
            raise DownloadError(
                f"{source.name}: no sha256 is pinned for {source.url}; refusing to use an "
                f"unverified file. Pin it in the config (this file has sha256 {actual}) or "
                "opt in with allow_unpinned."
            )
        log.warning("%s: UNPINNED file accepted; its sha256 is %s — pin it in the config",
                    source.name, actual)
        return actual
    if actual.lower() != source.sha256.lower():
        raise DownloadError(
            f"{source.name}: sha256 mismatch for {path}: expected {source.sha256}, found "
            f"{actual}. The download may be truncated or corrupted, or the file changed "
            "upstream; delete it and retry, or update the pinned hash if the change is intended."
        )
    return actual


def check_container(path: PathLike) -> None:
    """Read a gzip to its end, or test a zip's CRCs, raising DownloadError if truncated."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    try:
        if magic[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                while fh.read(1 << 22):
                    pass
        elif magic == b"PK\x03\x04":
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            if bad is not None:
                raise DownloadError(f"{path}: zip member {bad!r} is corrupt")
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as exc:
        raise DownloadError(f"{path}: truncated or corrupt archive ({exc}); "
                            "delete it and download again") from exc


def fetch(source: Source, out: PathLike, allow_unpinned: bool = False) -> Path:
    """Fetch ``source`` to ``out`` (verified), extracting a zip member if configured.

    Args:
        source: what to fetch.
        out: final path of the raw file (the extracted member, if ``source.extract``).
        allow_unpinned: accept a source without sha256 (logs the hash found).

    Returns:
        ``out``.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.download"
    staging.mkdir(exist_ok=True)
    try:
        if source.local:
            local = Path(source.local)
            if not local.is_file():
                raise DownloadError(f"{source.name}: local copy {local} does not exist")
            fetched = staging / local.name
            shutil.copyfile(local, fetched)
        else:
            try:
                # known_hash=None: the hash is checked below, so that an unpinned source gets
                # our refusal message rather than a silent accept.
                fetched = Path(pooch.retrieve(source.url, known_hash=None,
                                              fname=Path(source.url).name or source.name,
                                              path=staging, progressbar=False))
            except Exception as exc:  # requests/ftp errors have no common base class
                raise DownloadError(f"{source.name}: download of {source.url} failed: "
                                    f"{exc}") from exc
        found_hash = _check_hash(fetched, source, allow_unpinned)
        check_container(fetched)
        if source.extract:
            with zipfile.ZipFile(fetched) as archive:
                if source.extract not in archive.namelist():
                    raise DownloadError(
                        f"{source.name}: {source.extract!r} not in {fetched.name}; members: "
                        f"{archive.namelist()[:20]}"
                    )
                with archive.open(source.extract) as src, open(staging / "member", "wb") as dst:
                    shutil.copyfileobj(src, dst)
            fetched = staging / "member"
        os.replace(fetched, out)
        if source.sha256 is None:
            # the hash of what was downloaded (the archive, if a member was extracted)
            write_text_atomic(out.with_name(out.name + ".sha256"), found_hash + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("%s: %s ready (%s bytes)", source.name, out, f"{out.stat().st_size:,}")
    return out
