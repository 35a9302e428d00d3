"""ingest.cards answers exactly like astropy's Header, on every real sample and on odd values."""
from __future__ import annotations

import warnings

import pytest
from astropy.io import fits
from hypothesis import given, settings, strategies as st

from ingest.cards import HeaderCards, parse_value
from tests.ingest.samples import load_samples


def _astropy(text: str, key: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = fits.Header.fromstring(text).get(key)
        except Exception:  # noqa: BLE001  (astropy's VerifyError)
            return "unparsable"
    return None if isinstance(value, fits.card.Undefined) else value


def _ours(text: str, key: str):
    try:
        return HeaderCards(text).get(key)
    except ValueError:
        return "unparsable"


@pytest.mark.parametrize("sample", load_samples(), ids=lambda s: s.key)
def test_every_value_of_every_sample_matches_astropy(sample):
    text = sample.cards.decode("ascii", "replace").replace("\x00", " ").replace("\ufffd", " ")
    text = text[:len(text) - len(text) % 80]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = fits.Header.fromstring(text)
    ours = HeaderCards(text)
    for key in set(theirs.keys()) - {"COMMENT", "HISTORY", ""}:
        try:
            expected = theirs.get(key)
        except Exception:  # noqa: BLE001
            with pytest.raises(ValueError):
                ours.get(key)
            continue
        expected = None if isinstance(expected, fits.card.Undefined) else expected
        assert ours.get(key) == expected, key
        assert ours.count(key) == theirs.count(key), key


@pytest.mark.parametrize("field", [
    "'O''Brien  '", "'  right'", "''", "T", "F", "12", "-7", "+3", "1.5D3", "1E400", "-.5", "1.",
    "(1, 2)", "", "  / only a comment", "'abc", "12abc", "'x' junk",
    "- 0", "+ 12", "- .5E3", "1.5E+ 3", "1.5 E3", "( - 1.5 , + 2 )", "1. 5", "-", "(inf, 1)",
])
def test_odd_values_match_astropy(field):
    card = f"KEY     = {field}".ljust(80)
    assert _ours(card, "KEY") == _astropy(card, "KEY")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=70))
def test_random_value_fields_never_disagree_in_kind(field):
    """Anything either parses to astropy's value or is refused as astropy refuses it."""
    card = f"KEY     = {field}".ljust(80)[:80]
    ours, theirs = _ours(card, "KEY"), _astropy(card, "KEY")
    if isinstance(theirs, float) and theirs != theirs:  # NaN
        assert ours != ours
    else:
        assert ours == theirs


def test_parse_value_reads_strings_as_the_standard_says():
    assert parse_value(" 'It''s'   / comment") == "It's"
    assert parse_value("'a   '") == "a"
