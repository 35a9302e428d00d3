"""The limits only TAP has: its uploads and the length of its queries (TAPRegExt 1.0 §2.6).

The limits every service shares (MAXREC, execution time, retention) are in
:mod:`vo_services.limits`; the capabilities read both.
"""
from __future__ import annotations

from archive.config import configured_int as _configured
from vo_services.limits import Limit

# Each settable by its LICK_* variable (README's configuration table); the callers' own limits
# (jobs in flight, request rate) are in vo_services/usage_limits.py.
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
