"""Reading primary headers: repairs flagged, hopeless files refused with a reason."""
from __future__ import annotations

import gzip
import hashlib

import pytest

from ingest.fitsread import UnreadableFile, parse_header_bytes, read_primary_header
from ingest.flags import IngestFlag as F
from ingest.instruments.base import Cards
from tests.ingest.samples import write_fits, write_sample

END = b"END".ljust(80)


def card(text: str) -> bytes:
    return text.ljust(80).encode("latin-1")


def minimal(*cards: str) -> bytes:
    return b"".join(card(c) for c in ("SIMPLE  =                    T", "BITPIX  =                    8",
                                        "NAXIS   =                    0", *cards))


def test_a_clean_file_reads_without_flags(samples, tmp_path):
    path = write_sample(samples["kast_red_8"], tmp_path)  # the one sample with an END card
    read = read_primary_header(path)
    assert read.flags == F(0)
    assert read.shape == (1232, 186)
    assert read.header["OBJECT"].strip() == "Arc"
    assert read.text.splitlines()[0] == "SIMPLE  =                    T / NORMAL FITS IMAGE"
    assert "END" not in read.text.splitlines()


def test_a_header_without_end_stops_where_the_data_begin(samples, tmp_path):
    path = write_sample(samples["nickel_direct_1"], tmp_path)
    read = read_primary_header(path)
    assert read.flags == F.NO_END_CARD
    assert len(read.header) == 155  # the sample's cards, none of the zero data
    assert read.text.splitlines()[-1].startswith("COMMENT End of cards from other times")


def test_the_data_section_is_not_needed_but_a_short_one_is_flagged(samples, tmp_path):
    path = write_fits(tmp_path / "short.fits", samples["kast_red_8"].cards, 0)
    read = read_primary_header(path)
    assert read.flags == F.DATA_TRUNCATED
    assert read.header["VERSION"] == "kastr"


def test_gzip_files_are_read(samples, tmp_path):
    plain = write_sample(samples["kast_red_8"], tmp_path)
    packed = tmp_path / "r1002.fits.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_primary_header(packed).header["OBSNUM"] == 1002


def test_checksum_is_the_md5_of_the_file_when_asked(samples, tmp_path):
    path = write_sample(samples["apf_1"], tmp_path)
    assert read_primary_header(path).md5 is None
    assert read_primary_header(path, checksum=True).md5 == hashlib.md5(path.read_bytes()).hexdigest()


def test_nul_and_non_ascii_bytes_are_replaced_and_flagged():
    data = minimal("OBJECT  = 'M31\x00\x00'", "OBSERVER= 'Jos\xe9 P\xe9rez'") + END
    read = parse_header_bytes(data)
    assert read.flags == F.INVALID_CHARACTERS
    assert read.header["OBJECT"].strip() == "M31"
    assert read.header["OBSERVER"] == "Jos  P rez"
    assert "\x00" not in read.text


def test_a_missing_simple_card_is_supplied(samples):
    cards = samples["kast_red_8"].cards[80:]
    read = parse_header_bytes(cards)
    assert read.flags == F.NO_SIMPLE_CARD
    assert read.header["SIMPLE"] is True and read.header["VERSION"] == "kastr"


def test_repeated_cards_are_flagged(samples):
    assert parse_header_bytes(samples["kast_blue_1"].cards + END).flags == F.REPEATED_CARD


def test_a_card_astropy_cannot_parse_is_ignored_and_flagged():
    read = parse_header_bytes(minimal("OBJECT  = 'M31'", "BADCARD = 'never closed", "EXPTIME =   1.0 / ok") + END)
    cards = Cards(read.header, read.flags)
    assert cards.text("OBJECT") == "M31" and cards.number("EXPTIME") == 1.0
    assert cards.value("BADCARD") is None and cards.flags == F.BAD_CARD_VALUE


def test_unparsable_naxis_gives_no_shape_and_a_flag():
    read = parse_header_bytes(card("SIMPLE  =                    T") + card("NAXIS   =                    1")
                              + card("NAXIS1  = 12 34") + END)
    assert read.shape == () and read.flags == F.BAD_CARD_VALUE


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(3000), "not a FITS file"),
    (b"just some text\nwith lines\n" * 200, "not a FITS file"),
    (b"SIMPLE  =", "truncated"),
    (bytes(5760), "not a FITS file"),
])
def test_hopeless_files_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.fits"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=reason):
        read_primary_header(path)


def test_a_file_cut_inside_its_header_is_truncated(samples, tmp_path):
    path = tmp_path / "cut.fits"
    path.write_bytes(samples["sharcs_1"].cards[:5000])
    with pytest.raises(UnreadableFile, match="truncated"):
        read_primary_header(path)


def test_a_corrupt_gzip_file_is_refused(samples, tmp_path):
    path = tmp_path / "broken.fits.gz"
    path.write_bytes(gzip.compress(samples["apf_1"].cards + END)[:300])
    with pytest.raises(UnreadableFile, match="gzip|truncated"):
        read_primary_header(path)


def test_a_text_file_of_cards_without_simple_needs_a_keyword_value_first():
    with pytest.raises(UnreadableFile, match="not a FITS file"):
        parse_header_bytes(card("hello world, this is not a header") * 36)


def test_a_complete_data_section_is_not_flagged_even_when_end_starts_a_block(tmp_path):
    cards = minimal(*[f"KEY{i:05d}= {i}" for i in range(33)])  # 36 cards: END opens block 2
    cards = cards.replace(card("NAXIS   =                    0"),
                          card("NAXIS   =                    1") + card("NAXIS1  =                   10"))[:36 * 80]
    assert len(cards) == 2880
    path = write_fits(tmp_path / "x.fits", cards, 10, end=True)
    assert path.stat().st_size == 3 * 2880
    assert read_primary_header(path).flags == F(0)
    path.write_bytes(path.read_bytes()[:2 * 2880])  # the data block lost
    assert read_primary_header(path).flags == F.DATA_TRUNCATED
