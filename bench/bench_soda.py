"""SODA cutout figures: a 200x200 cutout of a 2048x2048 frame.

    .venv/bin/python -m bench.bench_soda

A Nickel direct frame of 2048x2048 16-bit pixels (8 MiB, the demo header's WCS) is written to a
temporary archive root and ingested into a small database of its own (``lick_bench_soda``, made
once); gunicorn serves it as in production (bench/common.py). Printed, as medians:

* ``http``: GET /soda/sync?ID=...&CIRCLE=... on a kept connection, as pyvo's session asks it:
  access check, the frame's WCS, the read of the needed rows, the FITS file, the transfer;
* ``in-process``: the same cut by the service's code (vo_services.soda.cutout) without HTTP;
* ``astropy``: the baseline, what a user does with the file at hand: ``fits.open`` (memory
  map, the pixels unscaled as the service serves them), ``WCS(header)``, ``Cutout2D`` and writing
  the cutout with its WCS to bytes;

the ratio of each to the baseline, and the machine's load (it is shared: figures are noisy).
"""
from __future__ import annotations

import io
import os
import tempfile
import urllib.parse
import warnings
from pathlib import Path

os.environ.setdefault("LICK_DB_NAME", "lick_bench_soda")
ROOT = Path(tempfile.mkdtemp(prefix="lick_bench_soda_"))
os.environ["LICK_ARCHIVE_ROOT"] = str(ROOT)

import bench.common  # noqa: E402,F401  (the database name and sys.path, before the settings are read)
from bench.common import KeptConnection, ensure_database, interleaved_medians, server  # noqa: E402

import numpy as np  # noqa: E402
from astropy import units as u  # noqa: E402
from astropy.coordinates import SkyCoord  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.nddata import Cutout2D  # noqa: E402
from astropy.wcs import WCS  # noqa: E402

SIDE = 2048
CUT = 200
REL_PATH = "2025-03/26/nickel/d2048.fits"
TEMPLATE = bench.common.REPO / "archive" / "demo" / "templates" / "nickel_direct_2.hdr.txt"


def write_frame() -> Path:
    lines = [line for line in TEMPLATE.read_text().splitlines() if not line.startswith("# ")]
    header = fits.Header.fromstring("\n".join(lines), sep="\n")
    header["NAXIS1"], header["NAXIS2"] = SIDE, SIDE
    header["CRPIX1"], header["CRPIX2"] = SIDE / 2, SIDE / 2
    path = ROOT / REL_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.random.default_rng(7).integers(900, 40000, (SIDE, SIDE)).astype(np.uint16)
    fits.PrimaryHDU(data, header=header).writeto(path, output_verify="silentfix")
    return path


def ingest(path: Path) -> str:
    from archive.db import engine
    from ingest.pipeline import ingest_batch
    from ingest.store import publisher_did

    report = ingest_batch([path], root=ROOT)
    assert not report.failed, report.failed
    obs_id = REL_PATH.removesuffix(".fits")
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() - interval '1 day' "
                             "WHERE obs_id = %s", (obs_id,))
    return publisher_did(obs_id)


def main() -> None:
    ensure_database(rows=0)
    path = write_frame()
    did = ingest(path)
    obs_id = REL_PATH.removesuffix(".fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.getheader(path))
    ra, dec = (float(v) for v in wcs.wcs_pix2world([[700.3, 1300.6]], 0)[0])
    scale = float(np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix))))
    radius = CUT / 2 * scale

    from vo_services.soda.cutout import cut, open_frame
    from vo_services.dali.values import Circle

    def in_process() -> bytes:
        return cut(open_frame(path, REL_PATH, obs_id), Circle(ra, dec, radius))

    def astropy_baseline() -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=True, do_not_scale_image_data=True) as hdul:
                hdu = hdul[0]
                frame_wcs = WCS(hdu.header)
                cutout = Cutout2D(hdu.data, SkyCoord(ra, dec, unit="deg"), (2 * radius * u.deg,) * 2, wcs=frame_wcs)
                header = hdu.header.copy()
                header.update(cutout.wcs.to_header())
                out = io.BytesIO()
                fits.PrimaryHDU(cutout.data, header=header).writeto(out)
                return out.getvalue()

    served_shape = fits.open(io.BytesIO(in_process()))[0].data.shape
    baseline_shape = fits.open(io.BytesIO(astropy_baseline()))[0].data.shape
    query = urllib.parse.urlencode({"ID": did, "CIRCLE": f"{ra} {dec} {radius}"})
    with server(workers=1) as (base, _):
        kept = KeptConnection(base)
        body = kept.get(f"/soda/sync?{query}")
        http_shape = fits.open(io.BytesIO(body))[0].data.shape
        load_before = os.getloadavg()[0]
        medians = interleaved_medians({"http": lambda: kept.get(f"/soda/sync?{query}"),
                                       "in-process": in_process, "astropy": astropy_baseline},
                                      repeat=200, warmup=20)
        load_after = os.getloadavg()[0]
        kept.close()
    print(f"SODA cutout of {SIDE}x{SIDE} 16-bit frame ({path.stat().st_size / 2**20:.1f} MiB), "
          f"CIRCLE r = {radius * 3600:.1f} arcsec -> {http_shape[1]}x{http_shape[0]} "
          f"(in-process {served_shape[1]}x{served_shape[0]}, astropy {baseline_shape[1]}x{baseline_shape[0]})")
    for name in ("http", "in-process", "astropy"):
        print(f"  {name:<11} median {medians[name]:7.2f} ms   ratio to astropy {medians[name] / medians['astropy']:5.2f}")
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} cores")


if __name__ == "__main__":
    try:
        main()
    finally:
        import shutil

        shutil.rmtree(ROOT, ignore_errors=True)
