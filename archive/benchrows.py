"""The benchmarks' fast path: many metadata rows written directly, without FITS files.

Kept apart from the demo generator (which writes real FITS files that go through the real ingest
path): this only fills ``lick.observation`` and ``lick.access_grant`` with plausible values, by
COPY, to measure queries at 1,000,000 rows. Deterministic for a seed.
"""
from __future__ import annotations

import io
from datetime import date

import numpy as np
import psycopg2

from archive.config import get_settings

INSTRUMENTS = (  # telescope, instrument, dataproduct_type, facility, instrument dir, prefix
    ("Shane", "Kast Blue", "spectrum", "Lick Shane 3m", "shane", "b"),
    ("Shane", "Kast Red", "spectrum", "Lick Shane 3m", "shane", "r"),
    ("Shane", "ShaneAO/ShARCS", "image", "Lick Shane 3m", "AO", "s"),
    ("Nickel", "Nickel Direct", "image", "Lick Nickel 1m", "nickel", "d"),
    ("Nickel", "Nickel Spectrograph", "spectrum", "Lick Nickel 1m", "nickel", "n"),
    ("APF", "APF Levy", "spectrum", "Lick APF 2.4m", "APF", "ucb-"),
)
FRAMES = np.array(["science", "bias", "flat", "arc", "dark"])
FRAME_WEIGHTS = np.array([0.7, 0.1, 0.1, 0.07, 0.03])
COLUMNS = (
    "id", "obs_id", "obs_publisher_did", "dataproduct_type", "calib_level", "target_name", "s_ra", "s_dec",
    "s_fov", "t_min", "t_max", "t_exptime", "instrument_name", "facility_name",
    "obs_release_date", "pos", "telescope", "instrument", "frame_type", "observing_night", "date_obs",
    "airmass", "file_size", "file_mtime", "ingest_flags", "header", "file_path",
)


def fill(rows: int, *, dbname: str | None = None, seed: int = 7, proprietary: float = 0.3,
         programs: int = 200, chunk: int = 100_000) -> None:
    """Append ``rows`` rows; a fraction ``proprietary`` is still proprietary, granted to programs."""
    settings = get_settings()
    conn = psycopg2.connect(settings.dsn("owner", dbname))
    rng = np.random.default_rng(seed)
    try:
        with conn, conn.cursor() as cur:
            for offset in range(0, rows, chunk):
                n = min(chunk, rows - offset)
                _copy_chunk(cur, rng, _take_ids(cur, n), proprietary, programs, settings.ivoa_authority)
        with conn.cursor() as cur:
            conn.autocommit = True
            cur.execute("ANALYZE lick.observation")
            cur.execute("ANALYZE lick.access_grant")
    finally:
        conn.close()


def _take_ids(cur, n: int) -> np.ndarray:
    """``n`` ids drawn from the table's own sequence, as an ingest would take them.

    The rows and their grants must agree on the ids; computing them from max(id) does not, once
    the sequence has moved past max(id) (rows deleted, a rolled-back ingest) or when another
    writer takes ids meanwhile.
    """
    cur.execute("SELECT nextval(pg_get_serial_sequence('lick.observation', 'id')) "
                "FROM generate_series(1, %s)", (n,))
    return np.fromiter((row[0] for row in cur), dtype=np.int64, count=n)


def _copy_chunk(cur, rng, ids: np.ndarray, proprietary, programs, authority) -> None:
    n = len(ids)
    inst = rng.integers(0, len(INSTRUMENTS), n)
    # uniform on the sphere, north of dec -30 (what Lick sees)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-30)), 1, n)))
    start_unix = rng.uniform(date(2006, 1, 1).toordinal(), date(2026, 10, 1).toordinal(), n)
    t_min = start_unix - date(1858, 11, 17).toordinal()
    exptime = rng.choice([1.0, 30.0, 60.0, 300.0, 900.0, 1200.0], n)
    frame = rng.choice(FRAMES, n, p=FRAME_WEIGHTS)
    hidden = rng.random(n) < proprietary
    program = rng.integers(0, programs, n)
    out = io.StringIO()
    for i in range(n):
        tel, instrument, dptype, facility, directory, prefix = INSTRUMENTS[inst[i]]
        night = date.fromordinal(int(start_unix[i]))
        obs_id = f"{night:%Y-%m}/{night:%d}/{directory}/{prefix}{ids[i]}"
        day = int(start_unix[i]) - date(1970, 1, 1).toordinal()
        seconds = (start_unix[i] - int(start_unix[i])) * 86400
        moment = f"{np.datetime64(day, 'D') + np.timedelta64(int(seconds), 's')}+00"
        release = "2099-01-01+00" if hidden[i] else f"{night.isoformat()}+00"
        ra_rad, dec_rad = np.radians(ra[i]), np.radians(dec[i])
        out.write("\t".join(map(str, (
            ids[i], obs_id, f"{authority}?{obs_id}", dptype, 1, f"Target {ids[i] % 5000}", ra[i], dec[i],
            0.1, t_min[i], t_min[i] + exptime[i] / 86400, exptime[i], instrument, facility,
            release, f"({ra_rad},{dec_rad})", tel, instrument, frame[i], night.isoformat(), moment,
            1.2, 1048576, moment, 0, "SIMPLE  =                    T", obs_id + ".fits",
        ))) + "\n")
    out.seek(0)
    cur.copy_expert(f"COPY lick.observation ({', '.join(COLUMNS)}) FROM STDIN", out)
    grants = io.StringIO()
    for i in np.nonzero(hidden)[0]:
        grants.write(f"{ids[i]}\tprogram:bench_{program[i]:03d}\tbench fill\n")
    grants.seek(0)
    cur.copy_expert("COPY lick.access_grant (observation_id, principal, reason) FROM STDIN", grants)
