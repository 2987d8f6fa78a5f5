"""cpex.tools.integrity: sha256 of downloads against the index's published hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cpex.tools import integrity
from cpex.tools.integrity import (
    IntegrityVerificationError,
    compute_file_hash,
    fetch_pypi_package_hashes,
    find_matching_hash,
    verify_package_integrity,
)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "pkg-1.0.0.tar.gz"
    path.write_bytes(b"x" * (integrity.HASH_CHUNK_SIZE * 3 + 5))  # several chunks
    return path


def test_compute_file_hash(archive: Path) -> None:
    assert compute_file_hash(archive) == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert compute_file_hash(archive, "md5") == hashlib.md5(archive.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="Unsupported hash algorithm: nope"):
        compute_file_hash(archive, "nope")
    with pytest.raises(FileNotFoundError):
        compute_file_hash(archive.with_name("absent"))


def test_verify_package_integrity(archive: Path) -> None:
    good = compute_file_hash(archive)
    assert verify_package_integrity(archive, good.upper(), "pkg") is True
    with pytest.raises(IntegrityVerificationError) as exc:
        verify_package_integrity(archive, "0" * 64, "pkg")
    assert exc.value.package_name == "pkg" and exc.value.actual_hash == good
    assert "Integrity verification failed for pkg" in str(exc.value)
    assert verify_package_integrity(archive, "0" * 64, strict=False) is False
    with pytest.raises(FileNotFoundError):
        verify_package_integrity(archive.with_name("absent"), good)


def test_find_matching_hash(archive: Path) -> None:
    hashes = {"PKG-1.0.0.tar.gz": {"sha256": "abc", "url": "u"}, "pkg-1.0.0-py3-none-any.whl": {"sha256": "def"}}
    assert find_matching_hash(archive, hashes) == "abc"  # case-insensitive fallback
    assert find_matching_hash(archive.with_name("pkg-1.0.0-py3-none-any.whl"), hashes) == "def"
    assert find_matching_hash(archive.with_name("other.zip"), hashes) is None


def _serve(json_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integrity, "PYPI_JSON_API_URL", json_server.url + "/pypi/{package}/json")
    monkeypatch.setattr(integrity, "TEST_PYPI_JSON_API_URL", json_server.url + "/test/{package}/json")


def test_fetch_hashes_latest_and_pinned(json_server, monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(json_server, monkeypatch)
    files = {"urls": [
        {"filename": "json-2.0.tar.gz", "digests": {"sha256": "aa"}, "url": "https://files/json-2.0.tar.gz"},
        {"filename": "no-digest.whl", "digests": {}},
    ]}
    json_server.routes["/pypi/json/json"] = (200, files)
    # A name ending in letters of "/json" keeps them: the version goes before the /json suffix.
    json_server.routes["/pypi/json/2.0/json"] = (200, files)
    json_server.routes["/test/json/json"] = (200, {"urls": []})
    assert fetch_pypi_package_hashes("json") == {"json-2.0.tar.gz": {"sha256": "aa", "url": "https://files/json-2.0.tar.gz"}}
    pinned = fetch_pypi_package_hashes("json", "2.0")
    assert json_server.requests[-1] == "/pypi/json/2.0/json"
    assert pinned == fetch_pypi_package_hashes("json")
    assert fetch_pypi_package_hashes("json", use_test=True) == {}


def test_fetch_hashes_errors(json_server, monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(json_server, monkeypatch)
    with pytest.raises(RuntimeError, match="Package 'ghost' not found on PyPI"):
        fetch_pypi_package_hashes("ghost")
    with pytest.raises(RuntimeError, match="not found on test.PyPI"):
        fetch_pypi_package_hashes("ghost", use_test=True)
    json_server.routes["/pypi/broken/json"] = (500, {})
    with pytest.raises(RuntimeError, match="Failed to fetch package metadata"):
        fetch_pypi_package_hashes("broken")
    monkeypatch.setattr(integrity, "PYPI_JSON_API_URL", "http://127.0.0.1:9/{package}/json")  # nothing listens
    with pytest.raises(RuntimeError, match="Network error"):
        fetch_pypi_package_hashes("any", timeout=5)
