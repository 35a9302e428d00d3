"""RESPONSEFORMAT / FORMAT values and the encoder, Content-Type and file extension each selects.

DALI 1.1 §3.4.3: a format is named by its MIME type or a short name; a service SHOULD reject
one it does not support. §3.4.3 also says the response carries the MIME type the client asked
for, so ``text/xml`` is answered as ``text/xml``, not ``application/x-votable+xml``. MIME types
are matched case-insensitively and loosely: parameters other than ``serialization`` are ignored
(``text/csv;header=present`` is CSV, ``application/x-votable+xml;content=datalink`` a VOTable).

:func:`output_formats` lists every format for the TAPRegExt capabilities (``outputFormat``
with ``mime`` and ``alias``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from vo_services.encoders.votable import write_votable
from vo_services.encoders.fits import write_fits
from vo_services.encoders.jsonformat import write_json
from vo_services.encoders.parquet import write_parquet
from vo_services.encoders.text import write_csv, write_tsv

Encoder = Callable[..., Iterator[bytes]]
VOTABLE_MIME = "application/x-votable+xml"


class UnknownFormat(ValueError):
    """A RESPONSEFORMAT this service cannot produce; the message lists the ones it can."""


@dataclass(frozen=True)
class OutputFormat:
    name: str  # the short name (DALI 1.1 §3.4.3), also the TAPRegExt alias
    mime: str  # the canonical MIME type, the default Content-Type
    encoder: Encoder
    extension: str
    aliases: tuple[str, ...] = ()  # other short names and MIME types that select it
    ivo_id: str | None = None  # TAPRegExt 1.0 §2.4 standard format identifier
    # The encoder also takes batches of binary COPY tuples (vo_services.encoders.pgcopy.CopyRows)
    copy_rows: bool = False

    def __call__(self, fields, batches, **options) -> Iterator[bytes]:
        return self.encoder(fields, batches, **options)


FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("votable", VOTABLE_MIME, partial(write_votable, serialization="BINARY2"), "vot",
                 aliases=("text/xml", "application/xml", "votable/b2", "votable/binary2",
                          f"{VOTABLE_MIME};serialization=binary2"),
                 ivo_id="ivo://ivoa.net/std/TAPRegExt#output-votable-binary2", copy_rows=True),
    OutputFormat("votable/td", f"{VOTABLE_MIME};serialization=TABLEDATA",
                 partial(write_votable, serialization="TABLEDATA"), "vot",
                 aliases=("votable/tabledata",),
                 ivo_id="ivo://ivoa.net/std/TAPRegExt#output-votable-td"),
    OutputFormat("csv", "text/csv;header=present", write_csv, "csv", aliases=("text/csv",)),
    OutputFormat("tsv", "text/tab-separated-values", write_tsv, "tsv", aliases=("text/tsv",)),
    OutputFormat("fits", "application/fits", write_fits, "fits", aliases=("image/fits",)),
    OutputFormat("json", "application/json", write_json, "json"),
    OutputFormat("parquet", "application/vnd.apache.parquet", write_parquet, "parquet",
                 aliases=("application/x-parquet",)),
)


def _mime_key(value: str) -> tuple[str, str | None]:
    """(lower-case type/subtype, serialization parameter or None) of a MIME type."""
    base, *params = (part.strip() for part in value.split(";"))
    serialization = None
    for param in params:
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "serialization":
            serialization = param_value.strip().strip('"').lower()
    return base.lower(), serialization


def _index() -> dict[tuple[str, str | None], OutputFormat]:
    index: dict[tuple[str, str | None], OutputFormat] = {}
    for fmt in FORMATS:
        for name in (fmt.name, fmt.mime, *fmt.aliases):
            index.setdefault(_mime_key(name), fmt)
    return index


_INDEX = _index()


def resolve(value: str | None) -> tuple[OutputFormat, str]:
    """The format a RESPONSEFORMAT value selects and the Content-Type to answer with.

    None or an empty value is the default, a BINARY2 VOTable (TAP 1.1 §2.7.3).
    """
    if value is None or not value.strip():
        fmt = FORMATS[0]
        return fmt, fmt.mime
    base, serialization = _mime_key(value)
    fmt = _INDEX.get((base, serialization)) or _INDEX.get((base, None))
    if fmt is None or (serialization and serialization not in ("tabledata", "binary2")):
        known = ", ".join(f"{f.name} ({f.mime})" for f in FORMATS)
        raise UnknownFormat(f"unsupported RESPONSEFORMAT '{value.strip()}'; this service writes {known}")
    content_type = fmt.mime if _is_short_name(base) else value.strip()
    if fmt.mime.startswith("text/") or base.startswith("text/"):
        content_type += "" if "charset" in content_type.lower() else ";charset=utf-8"
    return fmt, content_type


def _is_short_name(name: str) -> bool:
    return "/" not in name or name.startswith("votable/")


def output_formats() -> list[dict]:
    """Every format for TAPRegExt ``outputFormat``: mime, aliases (short names), ivo-id."""
    return [{"mime": fmt.mime,
             "aliases": [a for a in (fmt.name, *fmt.aliases) if _is_short_name(a)],
             "ivo_id": fmt.ivo_id}
            for fmt in FORMATS]
