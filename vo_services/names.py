"""Unique names for result columns and their XML IDs."""
from __future__ import annotations

from collections.abc import Iterable


def unique_names(names: Iterable[str]) -> list[str]:
    """The names in order, later duplicates suffixed ``_2``, ``_3``, ... so that each is unique."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        result.append(candidate)
    return result
