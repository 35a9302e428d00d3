"""Writes observations and their access grants: the one writer of ``lick.observation``.

Ingest, re-deciding access and a curator's release date all change rows through this module
(tests/test_curation.py greps the tree for any other writer; the migrations and the benchmark's
row filler, ``archive/benchrows.py``, aside). Each file becomes one row, keyed by its archive
path: ingesting the same file twice gives one row, a changed file updates it, a deleted file is
withdrawn. A row and its grants are written in one transaction, so a reader never sees a row
without its access rule.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from archive.config import get_settings
from archive.schema import access_grant, ingest_failure, observation
from ingest.access import AccessDecision
from ingest.metadata import ObservationMetadata

_FILE_COLUMNS = {c.name for c in observation.columns} - {
    "id", "obs_publisher_did", "obs_release_date", "release_override", "file_size",
    "file_mtime", "checksum", "ingested_at"}
_META_COLUMNS = tuple(f.name for f in dataclasses.fields(ObservationMetadata) if f.name in _FILE_COLUMNS)
ADMIN_REASON = "admin:"  # grants an admin made: the access rules never replace them


@dataclass(frozen=True)
class FileState:
    """What identifies a version of a file on disk."""

    size: int
    mtime: datetime
    checksum: str | None = None


@dataclass(frozen=True)
class Ingestable:
    """Everything that goes into one row: the header's metadata, the file's state, the access."""

    meta: object  # ingest.metadata.ObservationMetadata
    state: FileState
    access: AccessDecision


def publisher_did(obs_id: str) -> str:
    """IVOA dataset identifier, ``ivo://<authority>?<obs_id>`` (ObsCore 1.1 §2.5)."""
    return f"{get_settings().ivoa_authority}?{obs_id}"


def _row(item: Ingestable) -> dict:
    values = {k: getattr(item.meta, k) for k in _META_COLUMNS}  # asdict() would deep-copy
    if values.get("s_ra") is not None and values.get("s_dec") is not None:
        values["pos"] = (values["s_ra"], values["s_dec"])
    else:
        values["pos"] = None
    values.update(
        obs_publisher_did=publisher_did(values["obs_id"]),
        obs_release_date=item.access.release_date,
        file_size=item.state.size,
        file_mtime=item.state.mtime,
        checksum=item.state.checksum,
        # As lick.access_grant will have them (the triggers of migration 0005 keep them so): a
        # row written right needs no second version when its grants go in (migration 0007).
        grantees=sorted({grant.principal for grant in item.access.grants}),
    )
    return values


def upsert(conn: Connection, items: Sequence[Ingestable]) -> dict[str, int]:
    """Insert or update the rows of ``items`` and replace their grants; returns path -> row id.

    Runs in the caller's transaction: commit it to publish the batch as a whole.
    """
    if not items:
        return {}
    rows = [_row(item) for item in items]
    stmt = insert(observation)
    # An updated row keeps its grantees: they may hold an admin's grants, and the triggers bring
    # them up to date as replace_grants changes the rule's.
    updated = {c: stmt.excluded[c] for c in rows[0] if c not in ("file_path", "grantees")}
    updated["obs_release_date"] = func.coalesce(observation.c.release_override, stmt.excluded.obs_release_date)
    updated["ingested_at"] = func.now()
    stmt = stmt.on_conflict_do_update(index_elements=["file_path"], set_=updated).returning(
        observation.c.id, observation.c.file_path)
    ids = {r.file_path: r.id for r in conn.execute(stmt, rows)}
    replace_grants(conn, {ids[item.meta.file_path]: item.access.grants for item in items})
    return ids


def replace_grants(conn: Connection, grants: dict[int, Sequence]) -> None:
    """Make each observation's rule-made grants exactly the given ones; an admin's grants stay."""
    g = access_grant.c
    conn.execute(delete(access_grant).where(g.observation_id.in_(list(grants)),
                                            g.reason.not_like(f"{ADMIN_REASON}%")))
    rows = [(row_id, grant.principal, grant.reason)
            for row_id, row_grants in grants.items() for grant in row_grants]
    if rows:
        # One statement for the whole batch: the grantees triggers then run once, not once a
        # grant (an executemany of single-row INSERTs took a third of bulk ingest's time).
        ids, principals, reasons = (list(column) for column in zip(*rows))
        conn.execute(_INSERT_GRANTS, {"ids": ids, "principals": principals, "reasons": reasons})


_INSERT_GRANTS = text(
    "INSERT INTO lick.access_grant (observation_id, principal, reason) "
    "SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:principals AS text[]), CAST(:reasons AS text[])) "
    "ON CONFLICT DO NOTHING")


def store_decisions(conn: Connection, decisions: dict[int, AccessDecision]) -> None:
    """Store access decided again for existing rows (by row id): their release date, unless an
    admin's override holds, and their rule-made grants."""
    if not decisions:
        return
    o = observation.c
    conn.execute(update(observation).where(o.id == bindparam("row_id")).values(
        obs_release_date=func.coalesce(o.release_override, bindparam("release"))),
        [{"row_id": row_id, "release": d.release_date} for row_id, d in decisions.items()])
    replace_grants(conn, {row_id: d.grants for row_id, d in decisions.items()})


def set_release_override(conn: Connection, obs_ids: Collection[str], when: datetime | None) -> None:
    """An admin's release date for these observations, or none (the rules' date, once re-decided)."""
    conn.execute(update(observation).where(observation.c.obs_id.in_(list(obs_ids)))
                 .values(release_override=when))


def withdraw(conn: Connection, file_paths: Sequence[str]) -> int:
    """Remove the rows of deleted files (their grants go with them); returns how many."""
    if not file_paths:
        return 0
    result = conn.execute(delete(observation).where(observation.c.file_path.in_(list(file_paths))))
    return result.rowcount


def known_states(conn: Connection, file_paths: Sequence[str]) -> dict[str, FileState]:
    """The stored state of each of ``file_paths`` that has a row, to skip unchanged files."""
    rows = conn.execute(
        select(observation.c.file_path, observation.c.file_size, observation.c.file_mtime,
               observation.c.checksum).where(observation.c.file_path.in_(list(file_paths))))
    return {r.file_path: FileState(r.file_size, r.file_mtime, r.checksum) for r in rows}


def record_failures(conn: Connection, failures: Sequence[tuple[str, str]]) -> None:
    """Remember files that could not be ingested, with the reason, counting attempts."""
    if not failures:
        return
    stmt = insert(ingest_failure)
    conn.execute(stmt.on_conflict_do_update(index_elements=["file_path"], set_={
        "reason": stmt.excluded.reason, "last_failed_at": func.now(),
        "attempts": ingest_failure.c.attempts + 1,
    }), [{"file_path": path, "reason": reason} for path, reason in failures])


def clear_failures(conn: Connection, file_paths: Sequence[str]) -> None:
    """Forget earlier failures of files that have now been ingested or withdrawn."""
    if file_paths:
        conn.execute(delete(ingest_failure).where(ingest_failure.c.file_path.in_(list(file_paths))))
