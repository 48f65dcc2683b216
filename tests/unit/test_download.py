"""Downloads: hash pinning, truncation, zip members, offline copies, a real HTTP round trip."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from geneint.data.download import DownloadError, Source, check_container, fetch

PAYLOAD = b"protein1 protein2 neighborhood\n4932.YAL001C 4932.YAL002W 150\n" * 200


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def gz_file(tmp_path: Path) -> Path:
    path = tmp_path / "served" / "links.txt.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(PAYLOAD, mtime=0))
    return path


@pytest.fixture()
def http_root(gz_file: Path):
    """A real HTTP server on loopback serving the folder of ``gz_file``."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(gz_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_download_with_pinned_hash(http_root, gz_file, tmp_path):
    out = tmp_path / "raw" / "links.txt.gz"
    src = Source("string", f"{http_root}/links.txt.gz", sha256=sha256(gz_file))
    assert fetch(src, out) == out
    assert out.read_bytes() == gz_file.read_bytes()
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # staging cleaned


def test_http_hash_mismatch_names_both_hashes_and_leaves_nothing(http_root, tmp_path):
    out = tmp_path / "raw" / "links.txt.gz"
    src = Source("string", f"{http_root}/links.txt.gz", sha256="0" * 64)
    with pytest.raises(DownloadError, match=r"sha256 mismatch.*expected 0{64}, found [0-9a-f]{64}"):
        fetch(src, out)
    assert not out.exists()


def test_http_missing_file_is_a_clear_error(http_root, tmp_path):
    src = Source("string", f"{http_root}/nope.txt.gz", sha256="0" * 64)
    with pytest.raises(DownloadError, match="download of .*nope.txt.gz failed"):
        fetch(src, tmp_path / "x.gz")


def test_unpinned_is_refused_unless_opted_in(gz_file, tmp_path):
    src = Source("string", "https://example.org/links.txt.gz", local=str(gz_file))
    with pytest.raises(DownloadError, match="no sha256 is pinned.*allow_unpinned"):
        fetch(src, tmp_path / "a.gz")
    out = fetch(src, tmp_path / "b.gz", allow_unpinned=True)
    assert (tmp_path / "b.gz.sha256").read_text().strip() == sha256(gz_file)
    assert out.read_bytes() == gz_file.read_bytes()


def test_offline_local_copy_checks_hash(gz_file, tmp_path):
    good = Source("string", "https://example.org/x.gz", sha256=sha256(gz_file), local=str(gz_file))
    assert fetch(good, tmp_path / "ok.gz").exists()
    bad = Source("string", "https://example.org/x.gz", sha256="f" * 64, local=str(gz_file))
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        fetch(bad, tmp_path / "bad.gz")
    missing = Source("string", "https://example.org/x.gz", local=str(tmp_path / "absent.gz"))
    with pytest.raises(DownloadError, match="does not exist"):
        fetch(missing, tmp_path / "m.gz")


def test_truncated_gzip_with_matching_hash_is_caught(gz_file, tmp_path):
    # A file truncated upstream and then pinned by mistake: the hash matches, the stream doesn't.
    cut = tmp_path / "cut.gz"
    data = gz_file.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    src = Source("string", "https://example.org/cut.gz", sha256=sha256(cut), local=str(cut))
    with pytest.raises(DownloadError, match="truncated or corrupt"):
        fetch(src, tmp_path / "out.gz")
    with pytest.raises(DownloadError):
        check_container(cut)


def test_zip_member_is_extracted_and_archive_hash_is_pinned(tmp_path):
    archive = tmp_path / "s1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("aao1729_data_s1.tsv", "Query strain ID\tArray strain ID\n")
    src = Source("kuzmin2018", "https://example.org/s1.zip", sha256=sha256(archive),
                 extract="aao1729_data_s1.tsv", local=str(archive))
    out = fetch(src, tmp_path / "raw" / "aao1729_data_s1.tsv")
    assert out.read_text().startswith("Query strain ID")
    wrong = Source("kuzmin2018", "https://example.org/s1.zip", sha256=sha256(archive),
                   extract="nope.tsv", local=str(archive))
    with pytest.raises(DownloadError, match="'nope.tsv' not in s1.zip"):
        fetch(wrong, tmp_path / "raw" / "x.tsv")
