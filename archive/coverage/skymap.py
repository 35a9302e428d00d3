"""The all-sky picture of a MOC: a Mollweide projection in ICRS, drawn with numpy alone.

No plotting library is installed on the archive's machines and a 64 KiB picture needs none: each
pixel inside the ellipse is projected back to (RA, Dec), its HEALPix cell is found, and the pixel
takes the colour of coverage or of empty sky; a graticule is drawn every 30° of Dec and 60° of RA.
The MOC is degraded to :data:`DRAW_ORDER` first, so that even a pointing of a few arcminutes shows
as at least a pixel or two. RA grows to the left, as on the sky, with RA 180° in the centre.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from archive.coverage.moc import Moc

WIDTH, HEIGHT = 800, 400
#: Order-6 cells are 0.92° across: at 0.45° per pixel, every cell covers some pixel centres.
DRAW_ORDER = 6
BACKGROUND = (0, 0, 0, 0)
SKY = (22, 30, 62, 255)
GRID = (70, 82, 120, 255)
COVERED = (255, 176, 46, 255)


def ang2pix_nest(order: int, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Nested HEALPix indices of positions (Górski et al. 2005, ApJ 622, 759; the ``loc2pix``
    of the HEALPix C++ library)."""
    nside = 1 << order
    z = np.sin(np.radians(dec_deg))
    za = np.abs(z)
    tt = np.mod(np.radians(ra_deg), 2 * np.pi) * (2 / np.pi)  # in [0, 4)
    tt = np.where(tt >= 4, 0.0, tt)
    face = np.empty(z.shape, dtype=np.int64)
    ix = np.empty(z.shape, dtype=np.int64)
    iy = np.empty(z.shape, dtype=np.int64)

    equator = za <= 2 / 3
    t1 = nside * (0.5 + tt[equator])
    t2 = nside * (z[equator] * 0.75)
    jp = (t1 - t2).astype(np.int64)
    jm = (t1 + t2).astype(np.int64)
    ifp, ifm = jp >> order, jm >> order
    face[equator] = np.where(ifp == ifm, ifp | 4, np.where(ifp < ifm, ifp, ifm + 8))
    ix[equator] = jm & (nside - 1)
    iy[equator] = nside - (jp & (nside - 1)) - 1

    polar = ~equator
    ntt = np.minimum(tt[polar].astype(np.int64), 3)
    tp = tt[polar] - ntt
    tmp = nside * np.sqrt(3 * (1 - za[polar]))
    jp = np.minimum((tp * tmp).astype(np.int64), nside - 1)
    jm = np.minimum(((1 - tp) * tmp).astype(np.int64), nside - 1)
    north = z[polar] >= 0
    face[polar] = np.where(north, ntt, ntt + 8)
    ix[polar] = np.where(north, nside - jm - 1, jp)
    iy[polar] = np.where(north, nside - jp - 1, jm)
    return ((face.astype(np.uint64) << np.uint64(2 * order))
            + _spread_bits(ix, order) + (_spread_bits(iy, order) << np.uint64(1)))


def _spread_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Interleave zero bits: bit k of ``values`` goes to bit 2k (for the nested index)."""
    out = np.zeros(values.shape, dtype=np.uint64)
    v = values.astype(np.uint64)
    for bit in range(bits):
        out |= ((v >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
    return out


def mollweide_grid(width: int = WIDTH, height: int = HEIGHT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inside, ra, dec) of every pixel centre: the inverse Mollweide projection."""
    x = (np.arange(width) + 0.5) / width * 4 * np.sqrt(2) - 2 * np.sqrt(2)
    y = np.sqrt(2) - (np.arange(height) + 0.5) / height * 2 * np.sqrt(2)
    x, y = np.meshgrid(x, y)
    inside = (x / (2 * np.sqrt(2))) ** 2 + (y / np.sqrt(2)) ** 2 < 1
    theta = np.arcsin(np.clip(y / np.sqrt(2), -1, 1))
    dec = np.degrees(np.arcsin(np.clip((2 * theta + np.sin(2 * theta)) / np.pi, -1, 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        longitude = np.degrees(np.pi * x / (2 * np.sqrt(2) * np.cos(theta)))
    ra = np.mod(180.0 - np.nan_to_num(longitude), 360.0)  # RA to the left, 180° in the centre
    return inside, ra, dec


def render(moc: Moc, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The PNG of ``moc`` on the whole sky."""
    inside, ra, dec = mollweide_grid(width, height)
    image = np.zeros((height, width, 4), dtype=np.uint8)
    image[:] = BACKGROUND
    image[inside] = SKY
    step_ra, step_dec = 720.0 / width * 1.5, 360.0 / height * 0.9
    on_grid = inside & ((np.abs(((dec + 15) % 30) - 15) < step_dec / 2)
                        | (np.abs(((ra + 30) % 60) - 30) * np.cos(np.radians(dec)) < step_ra / 2))
    image[on_grid] = GRID
    shown = moc.degrade(DRAW_ORDER)
    order = min(shown.order, DRAW_ORDER)
    cells = ang2pix_nest(order, ra[inside], dec[inside])
    covered = np.zeros(inside.shape, dtype=bool)
    covered[inside] = shown.contains(order, cells)
    image[covered] = COVERED
    return png(image)


def png(rgba: np.ndarray) -> bytes:
    """A PNG (ISO/IEC 15948) of an 8-bit RGBA array: filter 0 on every row, one zlib stream."""
    height, width, _ = rgba.shape
    raw = np.zeros((height, 1 + width * 4), dtype=np.uint8)
    raw[:, 1:] = rgba.reshape(height, width * 4)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + chunk(b"IEND", b""))
