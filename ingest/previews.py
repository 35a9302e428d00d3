"""PNG quick-looks of FITS data, made by a Celery task after ingest and kept on disk.

``ingest.pipeline.ingest_batch`` queues :func:`ingest.tasks.make_previews` for the files it
wrote, once their rows are committed; DataLink's ``#preview`` (vo_services/datalink/views.py)
serves the stored PNG and makes one itself only when it is missing or older than the file (the
broker was down, the task has not run yet). Here, below the web layer, so that both can use it.

Images get an asinh stretch between robust limits; spectra (a dispersion axis along x, as Kast,
APF and the Nickel spectrograph write them) are collapsed over the slit and drawn as a line
plot. The PNG is written here with zlib alone: a grey-scale image needs no plotting library.
"""
from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits

MAX_SIDE = 512
PLOT_SIZE = (300, 640)  # height, width


class NoPreview(Exception):
    """The file has no data a preview can be made of."""


def png(pixels: np.ndarray) -> bytes:
    """An 8-bit grey-scale PNG (PNG spec §11.2.2, colour type 0) of a 2-D uint8 array."""
    height, width = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _stretch(image: np.ndarray) -> np.ndarray:
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        raise NoPreview("the image holds no finite pixel")
    low, high = np.percentile(finite, [0.5, 99.5])
    if high <= low:
        high = low + 1
    scaled = np.clip((np.nan_to_num(image, nan=low) - low) / (high - low), 0, 1)
    stretched = np.arcsinh(10 * scaled) / np.arcsinh(10)
    # FITS rows run from the bottom; PNG rows from the top.
    return (stretched[::-1] * 255).astype(np.uint8)


def _downsample(image: np.ndarray) -> np.ndarray:
    step = max(1, int(np.ceil(max(image.shape) / MAX_SIDE)))
    if step == 1:
        return image
    h, w = (image.shape[0] // step) * step, (image.shape[1] // step) * step
    return image[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))


def _plot(spectrum: np.ndarray) -> np.ndarray:
    """A white canvas with the spectrum drawn in black, scaled to robust limits."""
    height, width = PLOT_SIZE
    canvas = np.full((height, width), 255, np.uint8)
    values = np.nan_to_num(spectrum.astype(float))
    low, high = np.percentile(values, [1, 99])
    high = high if high > low else low + 1
    x = np.linspace(0, values.size - 1, width)
    y = np.interp(x, np.arange(values.size), values)
    rows = (height - 10 - (np.clip((y - low) / (high - low), 0, 1) * (height - 20))).astype(int)
    for column in range(width - 1):  # connect neighbouring samples with vertical strokes
        top, bottom = sorted((rows[column], rows[column + 1]))
        canvas[top:bottom + 1, column] = 0
    canvas[height - 5, :] = 128  # an axis line
    return canvas


def make_preview(path: Path, dataproduct_type: str) -> bytes:
    try:
        with fits.open(path, memmap=False, ignore_missing_end=True, ignore_missing_simple=True) as hdul:
            data = next((h.data for h in hdul if h.data is not None and h.data.ndim >= 1), None)
    except (OSError, ValueError, TypeError) as exc:
        raise NoPreview(f"the data cannot be read: {exc}") from None
    if data is None or data.size == 0:
        raise NoPreview("the file holds no data")
    data = np.asarray(data, dtype=float)
    while data.ndim > 2:
        data = data[0]
    if dataproduct_type == "spectrum" or data.ndim == 1:
        spectrum = data if data.ndim == 1 else np.median(data, axis=0)
        return png(_plot(spectrum))
    return png(_stretch(_downsample(data)))


def preview_path(cache: Path, obs_id: str) -> Path:
    """Where the preview of ``obs_id`` is kept."""
    return cache / f"{obs_id}.png"


def cached_preview(cache: Path, obs_id: str, path: Path, dataproduct_type: str) -> bytes:
    """The preview from the cache, made and stored when missing or older than the file.

    Workers asked for the same new preview at once each make it and write it to a temporary
    file of their own, renamed into place: the cache never holds a torn PNG, and no worker's
    rename pulls another's file from under it.
    """
    target = preview_path(cache, obs_id)
    if target.exists() and target.stat().st_mtime >= path.stat().st_mtime:
        return target.read_bytes()
    data = make_preview(path, dataproduct_type)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as partial:
        try:
            partial.write(data)
            partial.close()
            os.replace(partial.name, target)
        except BaseException:
            Path(partial.name).unlink(missing_ok=True)
            raise
    return data
