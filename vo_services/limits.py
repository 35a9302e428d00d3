"""The limits every service shares, declared in the capabilities and enforced, from this one place.

MAXREC (DALI 1.1 §3.4.4) and the execution time of a query bound the work of any result the
engine (:mod:`vo_services.results`) serves, TAP's or the cone search's; async jobs add their run
time and retention. Each limit has a default and a hard value, as TAPRegExt 1.0 §2.6 declares
them (durations in seconds, output in rows). What only TAP has (uploads, the length of a query)
is in :mod:`vo_services.tap.limits`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    default: int
    hard: int

    def clamp(self, requested: int | None) -> int:
        """The requested value, or the default when none was asked for, never above the hard one."""
        if requested is None:
            return self.default
        return min(requested, self.hard)


OUTPUT_ROWS = Limit(default=20_000, hard=10_000_000)  # MAXREC (DALI §3.4.4)
SYNC_EXECUTION_S = Limit(default=300, hard=300)
ASYNC_EXECUTION_S = Limit(default=3_600, hard=14_400)
RETENTION_S = Limit(default=7 * 86_400, hard=30 * 86_400)  # job creation to destruction
