"""The limits only TAP has: its uploads and the length of its queries (TAPRegExt 1.0 §2.6).

The limits every service shares (MAXREC, execution time, retention) are in
:mod:`vo_services.limits`; the capabilities read both.
"""
from __future__ import annotations

from vo_services.limits import Limit

UPLOAD_BYTES = Limit(default=5_000_000, hard=20_000_000)
UPLOAD_ROWS_HARD = 1_000_000
MAX_QUERY_BYTES = 100_000
