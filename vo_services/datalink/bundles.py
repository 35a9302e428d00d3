"""Download bundles: many archive files in one zip or tar.gz, with a manifest of checksums.

This module knows nothing of jobs or HTTP: it chooses the files a caller may have (and refuses,
by name, the ones they may not), checks the limits, and writes the archive. Each file is copied
in chunks and hashed (MD5 and SHA-256) in that same pass, so building a bundle reads every byte
once; the manifest, written last, lists file, size and both checksums.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from archive.config import get_settings
from vo_services.datalink.files import locate

CHUNK = 1024 * 1024
COMPRESS_LEVEL = 6  # what gzip and zip use by default: the speed users already accept from them
MANIFEST_NAME = "manifest.tsv"
MANIFEST_COLUMNS = ("file", "size", "md5", "sha256", "obs_id")


class BundleError(Exception):
    """A bundle request the service refuses; ``status`` is the HTTP status of the answer.

    The message starts with a DataLink 1.1 §3.4 fault code (``UsageFault``, ``NotFoundFault``),
    as the service's other error documents do.
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class BuildFailed(Exception):
    """A bundle that cannot be finished; the message, meant for the user, names the file."""


# --- formats ---------------------------------------------------------------------------------


class ArchiveWriter(Protocol):
    def add(self, name: str, source: BinaryIO, size: int, mtime: float) -> None: ...

    def add_bytes(self, name: str, data: bytes, mtime: float) -> None: ...

    def close(self) -> None: ...


class _TarWriter:
    """tar.gz; PAX headers, so long paths and files over 8 GiB need no special case."""

    def __init__(self, out: BinaryIO):
        self.tar = tarfile.open(fileobj=out, mode="w:gz", compresslevel=COMPRESS_LEVEL,
                                format=tarfile.PAX_FORMAT, copybufsize=CHUNK)

    def _info(self, name: str, size: int, mtime: float) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o644
        return info

    def add(self, name: str, source: BinaryIO, size: int, mtime: float) -> None:
        # tarfile reads exactly ``size`` bytes and raises OSError if the file ends sooner.
        self.tar.addfile(self._info(name, size, mtime), source)

    def add_bytes(self, name: str, data: bytes, mtime: float) -> None:
        self.tar.addfile(self._info(name, len(data), mtime), io.BytesIO(data))

    def close(self) -> None:
        self.tar.close()


class _ZipWriter:
    """zip with deflate; ZIP64 records only for files that need them."""

    def __init__(self, out: BinaryIO):
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL,
                                   allowZip64=True)

    @staticmethod
    def _info(name: str, size: int, mtime: float) -> zipfile.ZipInfo:
        # zip stores local time from 1980 on, without a zone (APPNOTE 4.4.6), as the zip tool does
        info = zipfile.ZipInfo(name, time.localtime(max(mtime, 315_532_800 + 86_400))[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.file_size = size
        return info

    def add(self, name: str, source: BinaryIO, size: int, mtime: float) -> None:
        info = self._info(name, size, mtime)
        with self.zip.open(info, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as entry:
            while chunk := source.read(CHUNK):
                entry.write(chunk)

    def add_bytes(self, name: str, data: bytes, mtime: float) -> None:
        self.zip.writestr(self._info(name, len(data), mtime), data)

    def close(self) -> None:
        self.zip.close()


@dataclass(frozen=True)
class BundleFormat:
    name: str
    mime: str
    extension: str
    writer: Callable[[BinaryIO], ArchiveWriter]
    aliases: tuple[str, ...] = ()


FORMATS: tuple[BundleFormat, ...] = (
    BundleFormat("zip", "application/zip", "zip", _ZipWriter, aliases=("application/x-zip-compressed",)),
    BundleFormat("tar.gz", "application/gzip", "tar.gz", _TarWriter,
                 aliases=("tgz", "application/x-tar+gzip", "application/x-gtar", "application/x-gzip")),
)
DEFAULT_FORMAT = FORMATS[0]


def bundle_format(value: str | None) -> BundleFormat:
    """The format a FORMAT/RESPONSEFORMAT value names, by short name or MIME type (DALI 1.1
    §3.4.3, matched case-insensitively, MIME parameters ignored); none given: zip."""
    if value is None or not value.strip():
        return DEFAULT_FORMAT
    wanted = value.split(";")[0].strip().lower()
    for fmt in FORMATS:
        if wanted in (fmt.name, fmt.mime, *fmt.aliases):
            return fmt
    names = ", ".join(f"{f.name} ({f.mime})" for f in FORMATS)
    raise BundleError(f"UsageFault: bundle format '{value}' is not supported; use {names}")


def format_named(name: str) -> BundleFormat:
    return next(f for f in FORMATS if f.name == name)


# --- choosing the files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What one bundle may hold (LICK_BUNDLE_MAX_FILES, LICK_BUNDLE_MAX_BYTES)."""

    max_files: int
    max_bytes: int

    @classmethod
    def configured(cls) -> "Limits":
        settings = get_settings()
        return cls(settings.bundle_max_files, settings.bundle_max_bytes)

    def check(self, files: int, size: int) -> None:
        if files > self.max_files:
            raise BundleError(f"UsageFault: a bundle may hold at most {self.max_files:,} files; "
                              f"this one would hold {files:,}. Split the request.")
        if size > self.max_bytes:
            raise BundleError(f"UsageFault: a bundle may hold at most {self.max_bytes:,} bytes; "
                              f"these {files:,} files have {size:,}. Split the request.")


@dataclass(frozen=True)
class Selection:
    """What a request gets: the visible observations in the order asked, and what it does not."""

    obs_ids: tuple[str, ...]
    refused: tuple[str, ...]  # the identifiers as given
    size: int


def obs_id_of(identifier: str, authority: str) -> str | None:
    """The obs_id an ID names, as DataLink takes IDs: this archive's publisher DID
    (``ivo://<authority>?<obs_id>``, ObsCore 1.1 §2.5) or the obs_id itself; another
    publisher's ``ivo://`` identifier names nothing here."""
    if identifier.startswith(f"{authority}?"):
        return identifier[len(authority) + 1:] or None
    if identifier.lower().startswith("ivo://"):
        return None
    return identifier


def select_files(identifiers: Sequence[str], principals: Sequence[str], limits: Limits) -> Selection:
    """Check the request against the limits and the access rule, before any job exists.

    The number of IDs is checked before the database is asked anything; IDs that are unknown and
    IDs the caller may not see are refused alike, so a refusal tells nothing about hidden data.
    """
    identifiers = list(dict.fromkeys(i.strip() for i in identifiers if i.strip()))
    if not identifiers:
        raise BundleError("UsageFault: give the files to bundle as ID parameters or a TAP job as JOB")
    limits.check(len(identifiers), 0)
    authority = get_settings().ivoa_authority
    wanted = {identifier: obs_id_of(identifier, authority) for identifier in identifiers}
    found = locate(sorted({o for o in wanted.values() if o}), principals)
    chosen = list(dict.fromkeys(o for o in wanted.values() if o in found))
    refused = tuple(i for i, o in wanted.items() if o not in found)
    if not chosen:
        raise BundleError(f"NotFoundFault: none of the {len(identifiers)} IDs is an observation you may see",
                          404)
    size = sum(found[o].size for o in chosen)
    limits.check(len(chosen), size)
    return Selection(tuple(chosen), refused, size)


# --- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One file to put in a bundle, as the archive recorded it."""

    name: str  # its path inside the bundle
    path: Path
    obs_id: str
    md5: str | None = None  # the archive's checksum, verified when known


@dataclass(frozen=True)
class ManifestRow:
    name: str
    size: int
    md5: str
    sha256: str
    obs_id: str


class HashingReader:
    """A file read through MD5 and SHA-256, so the copy and the checksums are one pass.

    ``progress`` is told, after every chunk, how many bytes of the file have been read.
    """

    def __init__(self, raw: BinaryIO, progress: Callable[[int], None] | None = None):
        self.raw = raw
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.md5.update(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)
        if self.progress is not None:
            self.progress(self.size)
        return chunk


def manifest(rows: Iterable[ManifestRow]) -> bytes:
    lines = ["\t".join(MANIFEST_COLUMNS)]
    lines += [f"{r.name}\t{r.size}\t{r.md5}\t{r.sha256}\t{r.obs_id}" for r in rows]
    return ("\n".join(lines) + "\n").encode()


def read_manifest(data: bytes) -> list[ManifestRow]:
    """The rows of a manifest, as a client (or a test) reads them back."""
    header, *lines = data.decode().splitlines()
    if tuple(header.split("\t")) != MANIFEST_COLUMNS:
        raise ValueError(f"not a bundle manifest: {header!r}")
    return [ManifestRow(name, int(size), md5, sha256, obs_id)
            for name, size, md5, sha256, obs_id in (line.split("\t") for line in lines)]


def _abandon(writer: ArchiveWriter) -> None:
    """Close a writer whose output the caller discards: a zip left open tries to finish itself
    when collected, on a file closed by then, and logs a traceback (a full disk, a failed member)."""
    try:
        writer.close()
    except (OSError, ValueError):
        pass  # the disk that made the build fail may fail this too; the output is discarded anyway


def write_bundle(fmt: BundleFormat, out: BinaryIO, top: str, members: Iterable[Member],
                 progress: Callable[[int, int], None] | None = None) -> list[ManifestRow]:
    """Write ``members`` under the directory ``top``, then ``top/manifest.tsv``.

    ``progress(files_done, bytes_done)`` is called after every chunk. A file that cannot be
    read, ends early, or whose MD5 is not the archive's raises :class:`BuildFailed`; the caller
    discards the partial output.
    """
    writer = fmt.writer(out)
    rows: list[ManifestRow] = []
    done_bytes = 0

    def count(read: int) -> None:
        if progress is not None:
            progress(len(rows), done_bytes + read)

    try:
        for member in members:
            try:
                source = member.path.open("rb")
            except OSError as exc:
                raise BuildFailed(f"{member.name} cannot be read: {exc.strerror or exc}") from None
            with source:
                stat = os.fstat(source.fileno())
                reader = HashingReader(source, count)
                try:
                    writer.add(f"{top}/{member.name}", reader, stat.st_size, stat.st_mtime)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                        raise  # the bundle's own disk is full, not this file at fault: the job core says so
                    raise BuildFailed(f"{member.name} could not be copied: {exc.strerror or exc}") from None
            md5 = reader.md5.hexdigest()
            if member.md5 and member.md5.lower() != md5:
                raise BuildFailed(f"{member.name} is not the file the archive recorded (MD5 {md5}, "
                                  f"recorded {member.md5}); it changed on disk after ingest")
            rows.append(ManifestRow(member.name, reader.size, md5, reader.sha256.hexdigest(), member.obs_id))
            done_bytes += reader.size
            count(0)
        writer.add_bytes(f"{top}/{MANIFEST_NAME}", manifest(rows), time.time())
        writer.close()
    except BaseException:
        _abandon(writer)
        raise
    return rows
