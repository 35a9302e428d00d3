"""The download basket: observation identifiers kept in the session (anonymous visitors too).

Nothing enters the basket that the caller may not see: chosen rows are looked up again through
the published view as the caller (:func:`visible`), and "all results" come from the search's own
query. The basket holds at most what one bundle may hold (LICK_BUNDLE_MAX_FILES), so that it can
always be downloaded in one piece as far as the number of files goes. Calibrations are the
DataLink ``#calibration`` links of its science frames (:func:`vo_services.datalink.links.links_for`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive.config import get_settings
from vo_services.datalink.bundles import Limits
from vo_services.datalink.links import MAX_IDS, links_for
from vo_services.portal import adql_text
from vo_services.portal.adql_text import UnsafeText
from vo_services.portal.runner import run_adql

SESSION_KEY = "portal_basket"
BUNDLES_KEY = "portal_bundles"  # the bundles this session asked for, newest last
LOOKUP_BATCH = 500


def capacity() -> int:
    return Limits.configured().max_files


def items(session) -> list[str]:
    return list(session.get(SESSION_KEY, []))


def _store(session, ids: Sequence[str]) -> None:
    session[SESSION_KEY] = list(ids)


@dataclass(frozen=True)
class Added:
    added: int
    capped: bool  # some were left out: the basket is full


def add(session, ids: Iterable[str]) -> Added:
    """Add ``ids`` (already checked as visible) after what is there, up to :func:`capacity`."""
    current = items(session)
    have = set(current)
    new = [i for i in dict.fromkeys(ids) if i not in have]
    room = max(capacity() - len(current), 0)
    _store(session, current + new[:room])
    return Added(min(len(new), room), len(new) > room)


def remove(session, ids: Iterable[str]) -> None:
    gone = set(ids)
    _store(session, [i for i in items(session) if i not in gone])


def clear(session) -> None:
    _store(session, [])


def visible(ids: Iterable[str], principals: Sequence[str]) -> list[str]:
    """Those of ``ids`` that are observations the caller may see, in the order given."""
    wanted = []
    for obs_id in dict.fromkeys(i.strip() for i in ids):
        try:
            if obs_id:
                wanted.append(adql_text.check_text(obs_id))
        except UnsafeText:
            continue
    seen: set[str] = set()
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start:start + LOOKUP_BATCH]
        seen.update(r["obs_id"] for r in details(batch, principals))
    return [i for i in wanted if i in seen]


def details(ids: Sequence[str], principals: Sequence[str]) -> list[dict]:
    """The rows of ``ids`` as the caller sees them (hidden and unknown ones are simply absent)."""
    if not ids:
        return []
    listed = ", ".join(adql_text.string(i) for i in ids)
    adql = ("SELECT obs_id, observing_night, instrument, frame_type, target_name, exptime, file_size, "
            f"obs_release_date FROM lick.observations WHERE obs_id IN ({listed})")
    rows = {r["obs_id"]: r for r in run_adql(adql, principals, len(ids)).rows}
    return [rows[i] for i in ids if i in rows]


def calibrations(ids: Sequence[str], principals: Sequence[str]) -> list[str]:
    """The calibration frames of the night and set-up of each science frame among ``ids``:
    the DataLink #calibration rule, as the caller sees it."""
    authority = get_settings().ivoa_authority
    download = get_settings().public_url + "/datalink/download/"
    found: list[str] = []
    for start in range(0, len(ids), MAX_IDS):
        dids = [f"{authority}?{i}" for i in ids[start:start + MAX_IDS]]
        for link in links_for(dids, principals):
            if link.semantics == "#calibration" and link.access_url and link.access_url.startswith(download):
                found.append(link.access_url[len(download):])
    return list(dict.fromkeys(found))


def remember_bundle(session, bundle_id: str) -> None:
    session[BUNDLES_KEY] = [*session.get(BUNDLES_KEY, [])[-49:], bundle_id]


def asked_for(session, bundle_id: str) -> bool:
    return bundle_id in session.get(BUNDLES_KEY, [])
