"""The cost of being logged in: the TAP cone query as anonymous and as a member of 20 programs.

    .venv/bin/python -m bench.bench_auth

On its own 1,000,000-row database (``lick_bench_auth``, made once), 30% of the rows still
proprietary and granted to 200 programs. Prints the median of the cone query via /tap/sync as
anonymous and with a Bearer token of a user who observes for 20 programs (target: within 1.5x),
the rows each sees, and the plan of the same SQL under the member's principals (it must still
use the GiST index on ``pos``).
"""
from __future__ import annotations

import os
import urllib.parse

os.environ.setdefault("LICK_DB_NAME", "lick_bench_auth")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")

import bench.common  # noqa: E402,F401  (database name first)
from bench.common import ensure_database, fetch, interleaved_medians, server  # noqa: E402

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402

CONE = ("SELECT TOP 100 * FROM ivoa.obscore WHERE "
        "1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.5))")
COUNT = "SELECT COUNT(*) FROM ivoa.obscore WHERE 1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 2))"
PROGRAMS = [f"bench_{i:03d}" for i in range(20)]
MEMBER = "bench_member"


def member_token() -> str:
    import django

    django.setup()
    with psycopg2.connect(get_settings().dsn("owner")) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO lick.program (program_id, title) VALUES (%s, 'bench') ON CONFLICT DO NOTHING",
                        [(p,) for p in PROGRAMS])
    from vo_services.accounts.observers import configure_user

    return configure_user(MEMBER, programs=PROGRAMS, token_name="bench")[1]


def get(base: str, query: str, token: str | None, **params) -> bytes:
    url = f"{base}/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query, **params})
    return fetch(url, headers={"Authorization": f"Bearer {token}"} if token else None)


def plan(principals: list[str]) -> list[str]:
    from archive.principals import signed_principals
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog

    sql = translate(CONE, catalog(), maxrec=20000).sql
    with psycopg2.connect(get_settings().dsn("query")) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('lick.principals', %s, true)",
                    (signed_principals(principals, conn.get_backend_pid()),))
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
        return [r[0] for r in cur.fetchall()]


def main() -> None:
    ensure_database(1_000_000, proprietary=0.3)
    token = member_token()
    principals = [f"user:{MEMBER}", *(f"program:{p}" for p in PROGRAMS)]
    lines = plan(principals)
    with server() as (base, _):
        counts = {who: get(base, COUNT, tok, FORMAT="csv").decode().split()[-1]
                  for who, tok in (("anonymous", None), ("member", token))}
        medians = interleaved_medians({"anonymous": lambda: get(base, CONE, None),
                                       "member": lambda: get(base, CONE, token)})
        anonymous_ms, member_ms = medians["anonymous"], medians["member"]
    print(f"rows within 2 deg of (150, 20): anonymous {counts['anonymous']}, member of 20 programs {counts['member']}")
    print(f"cone TOP 100 via /tap/sync, anonymous:          median {anonymous_ms:6.2f} ms")
    print(f"cone TOP 100 via /tap/sync, member (Bearer):    median {member_ms:6.2f} ms; "
          f"ratio {member_ms / anonymous_ms:.2f}x (target <= 1.5x)")
    uses_index = any("observation_pos_gist" in line or "observation_cone_instrument_night" in line
                     for line in lines)
    print(f"plan under the member's principals uses the GiST index: {'yes' if uses_index else 'NO'}")
    print("\n".join("    " + line for line in lines))


if __name__ == "__main__":
    main()
