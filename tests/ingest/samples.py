"""The real header samples (``LICK_HEADER_SAMPLES``) as FITS files in an archive tree.

Each sample's first line names the file it came from (``2019-05_02_shane_b607-hdu0.txt``), which
gives its place in the archive: ``2019-05/02/shane/b607.fits``. The cards are written byte for
byte (most samples have no END card, as dumped), padded to whole blocks, followed by a data
section of the size NAXISn demand, written sparse so that it costs no disk space.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# ../shared/lick_headers beside the checkout, as on every developer machine and in CI.
SAMPLES = Path(os.environ.get("LICK_HEADER_SAMPLES",
                              Path(__file__).resolve().parents[3] / "shared" / "lick_headers"))
BLOCK = 2880
_SOURCE = re.compile(r"test_data/(\d{4}-\d{2})[_/](\d{2})[_/]([A-Za-z]+)[_/](?:good_\d{4}_\d{2}_\d{2}_)?"
                     r"([\w-]+?)(?:-no-coord|-no-date)?(?:-hdu0\.txt|\.fits)")
_END = b"END".ljust(80)


@dataclass(frozen=True)
class Sample:
    key: str  # the sample's file name without .hdr.txt, e.g. 'kast_blue_1'
    rel_path: str  # where it lives in the archive, e.g. '2019-05/02/shane/b607.fits'
    cards: bytes = field(repr=False)  # the 80-byte cards as in the sample

    @property
    def has_end(self) -> bool:
        return any(self.cards[i:i + 80] == _END for i in range(0, len(self.cards), 80))

    def data_size(self) -> int:
        values = {}
        for i in range(0, len(self.cards), 80):
            card = self.cards[i:i + 80].decode("ascii", "replace")
            if re.match(r"(BITPIX|NAXIS\d*) *=", card):
                values[card[:8].strip()] = int(card[10:30].split("/")[0])
        size = abs(values.get("BITPIX", 8)) // 8
        naxis = values.get("NAXIS", 0)
        for i in range(1, naxis + 1):
            size *= values.get(f"NAXIS{i}", 0)
        return size if naxis else 0


def load_samples() -> list[Sample]:
    samples = []
    for path in sorted(SAMPLES.glob("*.hdr.txt")):
        first, _, rest = path.read_bytes().partition(b"\n")
        month, day, directory, name = _SOURCE.search(first.decode()).groups()
        cards = b"".join(line for line in rest.split(b"\n") if line)
        samples.append(Sample(path.name.removesuffix(".hdr.txt"), f"{month}/{day}/{directory}/{name}.fits", cards))
    return samples


def write_fits(path: Path, cards: bytes, data_size: int = 0, *, end: bool = False) -> Path:
    """Cards (plus END if asked) padded to whole blocks, then a sparse zero data section."""
    header = cards + (_END if end else b"")
    header += b" " * (-len(header) % BLOCK)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + data_size + (-data_size % BLOCK))
    return path


def write_sample(sample: Sample, root: Path, *, rel_path: str | None = None, end: bool = False) -> Path:
    return write_fits(root / (rel_path or sample.rel_path), sample.cards, sample.data_size(), end=end)
