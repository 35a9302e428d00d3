"""Target names as people type them, matched against the archive's own ``target_name``.

"ngc1068", "NGC 1068" and "Ngc  1068" are one target: names compare case- and space-insensitively
(:func:`normalized`). The database is asked for names starting with a few spellings of what was
typed (as typed, lower, upper and title case; without spaces and with a space between letters
and digits), which the translator answers from the target-name prefix index (migration 0009),
through the published view as the caller: a name the caller may not see is never suggested.
The exact comparison is then made here.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from vo_services.portal import adql_text
from vo_services.portal.runner import SearchFailed, run_adql

MAX_NAMES = 500  # distinct names fetched for one lookup
SUGGESTIONS = 15
MIN_SUGGEST = 2  # characters typed before names are suggested
_BOUNDARY = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_WILDCARDS = re.compile(r"[%_\\]")


def normalized(name: str) -> str:
    return "".join(name.split()).casefold()


def spellings(typed: str) -> list[str]:
    """Prefixes to look names up by: what was typed, in a few cases and spacings, cut before a
    LIKE wildcard (ADQL 2.1 §2.3.3: % and _), which the exact comparison here replaces."""
    squeezed = " ".join(typed.split())
    bare = squeezed.replace(" ", "")
    spaced = _BOUNDARY.sub(" ", bare)
    found: dict[str, None] = {}
    for base in (squeezed, bare, spaced):
        for variant in (base, base.lower(), base.upper(), base.title()):
            cut = _WILDCARDS.split(variant, maxsplit=1)[0]
            if cut:
                found[cut] = None
    return list(found)


def _names(typed: str, principals: Sequence[str]) -> list[str]:
    prefixes = spellings(typed)
    if not prefixes:
        return []
    condition = " OR ".join(f"target_name LIKE {adql_text.string(p + '%')}" for p in prefixes)
    adql = f"SELECT DISTINCT TOP {MAX_NAMES} target_name FROM lick.observations WHERE {condition}"
    return [row["target_name"] for row in run_adql(adql, principals, MAX_NAMES).rows
            if row["target_name"] is not None]


def matching(typed: str, principals: Sequence[str]) -> tuple[str, ...]:
    """The archive's names (as the caller sees them) that are ``typed``, spelled any way."""
    key = normalized(typed)
    return tuple(sorted(n for n in _names(typed, principals) if normalized(n) == key))


def suggestions(typed: str, principals: Sequence[str]) -> list[str]:
    """Names that begin like ``typed``, shortest first."""
    key = normalized(typed)
    if len(key) < MIN_SUGGEST:
        return []
    try:
        names = _names(typed, principals)
    except SearchFailed:
        return []
    return sorted((n for n in names if normalized(n).startswith(key)), key=lambda n: (len(n), n))[:SUGGESTIONS]
