"""Any bytes at all: the result is metadata or UnreadableFile with a reason, never anything else.

Mapping errors are turned into ``UnreadableFile('internal error ...')`` by :func:`map_file` so a
batch never stops; here such a reason fails the test, so bugs still show.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.fitsread import UnreadableFile
from ingest.mapping import map_file
from ingest.metadata import ObservationMetadata
from tests.ingest.samples import load_samples

SAMPLES = load_samples()
SETTINGS = settings(max_examples=int(os.environ.get("LICK_FUZZ_EXAMPLES", 150)), deadline=None,
                    database=None, suppress_health_check=list(HealthCheck))
_ROOT = Path(tempfile.mkdtemp(prefix="lick_fuzz_"))


def outcome(content: bytes, rel_path: str = "2019-05/02/shane/fuzz.fits"):
    path = _ROOT / rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    try:
        meta = map_file(path, _ROOT)
    except UnreadableFile as exc:
        assert exc.reason and not exc.reason.startswith("internal error"), exc.reason
        return exc
    assert isinstance(meta, ObservationMetadata)
    assert meta.s_ra is None or 0 <= meta.s_ra < 360
    assert "\x00" not in meta.header
    return meta


@SETTINGS
@given(st.binary(max_size=6000))
def test_random_bytes(content):
    outcome(content)


@st.composite
def mutated_sample(draw):
    sample = draw(st.sampled_from(SAMPLES))
    data = bytearray(sample.cards)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["byte", "nul", "high", "delete_card", "repeat_card", "value"]))
        cards = len(data) // 80
        if cards == 0:
            break
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        card = draw(st.integers(0, cards - 1)) * 80
        if kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "nul":
            data[at] = 0
        elif kind == "high":
            data[at] = draw(st.integers(128, 255))
        elif kind == "delete_card":
            del data[card:card + 80]
        elif kind == "repeat_card":
            data[card:card] = data[card:card + 80]
        else:  # a value field overwritten with text
            junk = draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20))
            data[card + 10:card + 10 + len(junk)] = junk.encode()
    data = bytes(data)
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data += b"END".ljust(80)
    return sample, data


@SETTINGS
@given(mutated_sample())
def test_mutated_real_headers(case):
    sample, data = case
    outcome(data, sample.rel_path)


@SETTINGS
@given(st.sampled_from(SAMPLES), st.data())
def test_truncations_of_real_files(sample, data):
    padded = sample.cards + b" " * (-len(sample.cards) % 2880)
    cut = data.draw(st.integers(0, len(padded)))
    result = outcome(padded[:cut], sample.rel_path)
    header_end = padded.find(b"END".ljust(80)) + 80 if sample.has_end else len(padded)
    if cut < header_end and (cut % 2880 or cut == 0):  # cut inside the header, off a block boundary
        assert isinstance(result, UnreadableFile)
