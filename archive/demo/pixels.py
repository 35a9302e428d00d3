"""Small data arrays that look like what each frame type holds.

Arrays are tiny (a few kB) so that 20,000 files fit in a few hundred MB; they only need to be
plausible when someone opens a file: a bias is flat noise, a flat is a smooth lamp, an arc has
lines, a spectrum has a continuum crossed by sky lines, an image has stars.
"""
from __future__ import annotations

import numpy as np

BIAS_LEVEL = 1000.0


def _spectrum(rng: np.random.Generator, shape: tuple[int, int], frame_type: str, exptime: float) -> np.ndarray:
    rows, cols = shape
    x = np.linspace(0.0, 1.0, cols)
    y = np.arange(rows)[:, None]
    image = np.zeros(shape)
    if frame_type == "flat":
        image += 20000 * (0.4 + np.sin(np.pi * (0.1 + 0.8 * x)))
    elif frame_type == "arc":
        for position in rng.uniform(0, 1, 12):
            image += rng.uniform(2000, 30000) * np.exp(-0.5 * ((x - position) / 0.004) ** 2)
    elif frame_type in ("science", "focus"):
        scale = min(exptime, 1800) / 10
        continuum = scale * (1.0 + 2.0 * x * np.exp(-2.5 * x)) * rng.uniform(5, 50)
        profile = np.exp(-0.5 * ((y - rows / 2 + rng.normal(0, 1)) / 1.5) ** 2)
        sky = scale * 3 * sum(np.exp(-0.5 * ((x - p) / 0.003) ** 2) for p in (0.55, 0.71, 0.83, 0.9))
        image += continuum * profile + sky + scale
    return image


def _image(rng: np.random.Generator, shape: tuple[int, int], frame_type: str, exptime: float) -> np.ndarray:
    image = np.zeros(shape)
    if frame_type == "flat":
        yy, xx = np.indices(shape)
        image += 15000 * (1 - 0.1 * (((xx - shape[1] / 2) ** 2 + (yy - shape[0] / 2) ** 2) / shape[0] ** 2))
    elif frame_type in ("science", "focus"):
        yy, xx = np.indices(shape)
        image += 20 + exptime * 0.5
        width = 1.2 if frame_type == "science" else rng.uniform(1.5, 4)
        for _ in range(rng.integers(3, 10)):
            x0, y0 = rng.uniform(0, shape[1]), rng.uniform(0, shape[0])
            image += rng.uniform(200, 20000) * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * width ** 2))
    return image


def frame_data(rng: np.random.Generator, shape: tuple[int, int], dataproduct: str, frame_type: str,
               exptime: float, bitpix: int, bzero: float = 0.0) -> np.ndarray:
    """The frame's pixels in the file's on-disk form, big-endian: float32 (ShARCS) or int16 less
    the header's BZERO (32768 for NEWCAM's unsigned counts, -64 for the 2006 Kast program)."""
    make = _spectrum if dataproduct == "spectrum" else _image
    signal = make(rng, shape, frame_type, exptime)
    counts = signal + rng.normal(0, 5, shape) + np.sqrt(np.maximum(signal, 0)) * rng.standard_normal(shape)
    if bitpix == -32:
        return counts.astype(">f4")
    return np.clip(counts + BIAS_LEVEL - bzero, -32768, 32767).astype(">i2")
