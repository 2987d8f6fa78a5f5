"""sha256 checks of downloaded plugin packages against the hashes their index publishes.

pip already checks hashes it is given; this adds a check against the index's JSON API
(PyPI's ``/pypi/<name>[/<version>]/json``) so a tampered mirror or a corrupted cache is
caught before the package's manifest is trusted.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Optional

try:
    import httpx2
except ImportError:  # only fetch_pypi_package_hashes needs it
    httpx2 = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

PYPI_JSON_API_URL = "https://pypi.org/pypi/{package}/json"
TEST_PYPI_JSON_API_URL = "https://test.pypi.org/pypi/{package}/json"
HASH_CHUNK_SIZE = 8192


class IntegrityVerificationError(Exception):
    """A downloaded package's sha256 differs from the one its index publishes."""

    def __init__(self, package_name: str, expected_hash: str, actual_hash: str):
        self.package_name = package_name
        self.expected_hash = expected_hash
        self.actual_hash = actual_hash
        super().__init__(
            f"Integrity verification failed for {package_name}: "
            f"expected {expected_hash[:16]}..., got {actual_hash[:16]}..."
        )


def compute_file_hash(file_path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks so large archives are not loaded whole."""
    if not file_path.exists():
        raise FileNotFoundError(f"File not found: {file_path}")
    try:
        digest = hashlib.new(algorithm)
    except ValueError as exc:
        raise ValueError(f"Unsupported hash algorithm: {algorithm}") from exc
    with open(file_path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _json_api_url(package_name: str, version: Optional[str], use_test: bool) -> str:
    url = (TEST_PYPI_JSON_API_URL if use_test else PYPI_JSON_API_URL).format(package=package_name)
    if version:
        # Insert the version before the trailing /json (a suffix cut, not a character strip,
        # so names ending in j/s/o/n keep their last letters).
        base = url[: -len("/json")] if url.endswith("/json") else url.rstrip("/")
        url = f"{base}/{version}/json"
    return url


def fetch_pypi_package_hashes(
    package_name: str, version: Optional[str] = None, use_test: bool = False, timeout: float = 30.0
) -> dict[str, dict[str, str]]:
    """``{filename: {"sha256": ..., "url": ...}}`` for the distribution files of a release.

    Without ``version`` the latest release is used. Raises RuntimeError when the index
    cannot be reached or does not know the package.
    """
    if httpx2 is None:
        from cpex.tools import missing_extra

        raise missing_extra("httpx2", "fetching package hashes")
    index = "test.PyPI" if use_test else "PyPI"
    url = _json_api_url(package_name, version, use_test)
    logger.debug("Fetching package hashes from %s", url)
    try:
        with httpx2.Client(timeout=timeout) as client:
            response = client.get(url)
            response.raise_for_status()
            data = response.json()
    except httpx2.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            raise RuntimeError(f"Package '{package_name}' not found on {index}") from exc
        raise RuntimeError(f"Failed to fetch package metadata: {exc}") from exc
    except httpx2.RequestError as exc:
        raise RuntimeError(f"Network error fetching package metadata: {exc}") from exc
    except Exception as exc:  # a non-JSON answer, a proxy page, ...
        raise RuntimeError(f"Unexpected error fetching package metadata: {exc}") from exc

    hashes: dict[str, dict[str, str]] = {}
    for entry in data.get("urls") or []:
        filename = entry.get("filename")
        sha256 = (entry.get("digests") or {}).get("sha256")
        if filename and sha256:
            hashes[filename] = {"sha256": sha256, "url": entry.get("url")}
    if not hashes:
        logger.warning("No distribution files found for %s", package_name)
    return hashes


def verify_package_integrity(
    file_path: Path, expected_hash: str, package_name: Optional[str] = None, strict: bool = True
) -> bool:
    """True when the file's sha256 is ``expected_hash``.

    On a mismatch, strict mode raises IntegrityVerificationError; otherwise it logs a
    warning and returns False.
    """
    if not file_path.exists():
        raise FileNotFoundError(f"Package file not found: {file_path}")
    name = package_name or file_path.name
    actual = compute_file_hash(file_path)
    if actual.lower() == expected_hash.lower():
        logger.info("Integrity verification passed for %s", name)
        return True
    detail = f"Integrity verification failed for {name}: expected {expected_hash}, got {actual} ({file_path})"
    if strict:
        logger.error(detail)
        raise IntegrityVerificationError(name, expected_hash, actual)
    logger.warning(detail)
    return False


def find_matching_hash(
    file_path: Path, hashes_dict: dict[str, dict[str, str]], package_name: Optional[str] = None
) -> Optional[str]:
    """The published sha256 for the downloaded file's name (exact, then case-insensitive), else None."""
    name = file_path.name
    if name in hashes_dict:
        return hashes_dict[name]["sha256"]
    for key, value in hashes_dict.items():
        if key.lower() == name.lower():
            return value["sha256"]
    logger.warning("No matching hash found for %s in the index metadata", package_name or name)
    return None
