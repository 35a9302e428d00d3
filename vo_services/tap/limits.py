"""The TAP service's limits: declared in the capabilities and enforced, from this one place.

TAPRegExt 1.0 §2.6: retention and execution duration in seconds, output and upload limits in
rows and bytes, each with a default and a hard value.
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


# Each settable by its LICK_* variable (README's configuration table); the callers' own limits
# (jobs in flight, request rate) are in vo_services/usage_limits.py.
_MAXREC_HARD = _configured("LICK_MAXREC_HARD", 10_000_000)
OUTPUT_ROWS = Limit(default=min(_configured("LICK_MAXREC_DEFAULT", 20_000), _MAXREC_HARD),
                    hard=_MAXREC_HARD)  # MAXREC (DALI §3.4.4)
SYNC_EXECUTION_S = Limit(default=_configured("LICK_SYNC_TIMEOUT", 300), hard=_configured("LICK_SYNC_TIMEOUT", 300))
ASYNC_EXECUTION_S = Limit(default=3_600, hard=_configured("LICK_ASYNC_TIMEOUT", 14_400))
RETENTION_S = Limit(default=7 * 86_400, hard=30 * 86_400)  # job creation to destruction
_UPLOAD_HARD = _configured("LICK_UPLOAD_MAX_BYTES", 20_000_000)
UPLOAD_BYTES = Limit(default=min(5_000_000, _UPLOAD_HARD), hard=_UPLOAD_HARD)
UPLOAD_ROWS_HARD = _configured("LICK_UPLOAD_MAX_ROWS", 1_000_000)
MAX_QUERY_BYTES = _configured("LICK_MAX_QUERY_BYTES", 100_000)

# TAP_UPLOAD (issue #13). TAPRegExt 1.0 has no element for the number of uploads: enforced only.
MAX_UPLOADS = 10  # tables per request
UPLOAD_COLUMNS = 1_000  # columns per uploaded table (PostgreSQL's own ceiling is 1,600)
UPLOAD_COLUMN_NAME_CHARS = 63  # PostgreSQL's identifier length (NAMEDATALEN - 1)
UPLOAD_TABLE_NAME_CHARS = 63 - len("tap_upload_")  # the temporary table is tap_upload_<name>
UPLOAD_FETCH_S = 10.0  # an upload at an http(s) URL: the whole fetch, connect to last byte
# A request's body, checked as it arrives (vo_services/chunked.py): every upload at its hard
# limit, plus room for the other parameters and the multipart framing.
MAX_REQUEST_BYTES = UPLOAD_BYTES.hard * MAX_UPLOADS + 1_000_000
