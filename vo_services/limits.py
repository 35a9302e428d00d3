"""The limits every service shares, declared in the capabilities and enforced, from this one place.

MAXREC (DALI 1.1 §3.4.4) and the execution time of a query bound the work of any result the
engine (:mod:`vo_services.results`) serves, TAP's or the cone search's; async jobs add their run
time and retention. Each limit has a default and a hard value, as TAPRegExt 1.0 §2.6 declares
them (durations in seconds, output in rows). What only TAP has (uploads, the length of a query)
is in :mod:`vo_services.tap.limits`.
"""
from __future__ import annotations

from dataclasses import dataclass

from archive.config import configured_int as _configured


@dataclass(frozen=True)
class Limit:
    default: int
    hard: int

    def clamp(self, requested: int | None) -> int:
        """The requested value, or the default when none was asked for, never above the hard one."""
        if requested is None:
            return self.default
        return min(requested, self.hard)


# Each settable by its LICK_* variable (README's configuration table).
_MAXREC_HARD = _configured("LICK_MAXREC_HARD", 10_000_000)
OUTPUT_ROWS = Limit(default=min(_configured("LICK_MAXREC_DEFAULT", 20_000), _MAXREC_HARD),
                    hard=_MAXREC_HARD)  # MAXREC (DALI §3.4.4)
SYNC_EXECUTION_S = Limit(default=_configured("LICK_SYNC_TIMEOUT", 300), hard=_configured("LICK_SYNC_TIMEOUT", 300))
ASYNC_EXECUTION_S = Limit(default=3_600, hard=_configured("LICK_ASYNC_TIMEOUT", 14_400))
RETENTION_S = Limit(default=7 * 86_400, hard=30 * 86_400)  # job creation to destruction
