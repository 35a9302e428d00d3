"""The one reader of DALI shape and interval values (vo_services/dali/values.py), which SIA 2.0
and SODA 1.0 both use: typed values for valid text, and errors naming the parameter."""
from __future__ import annotations

import math

import pytest

from vo_services.dali import DaliParameterError
from vo_services.dali.values import (
    Circle, Interval, Polygon, Range, parse_circle, parse_interval, parse_polygon, parse_pos, parse_range,
)

VALID = [
    ("CIRCLE 10 20 0.5", Circle(10.0, 20.0, 0.5)),
    ("circle 10 20 0.5", Circle(10.0, 20.0, 0.5)),  # the shape's name in any case
    ("CIRCLE\t359.5  -89.9\n1e-3", Circle(359.5, -89.9, 0.001)),  # any blanks
    ("CIRCLE 360 90 180", Circle(0.0, 90.0, 180.0)),  # DALI 1.1 §3.3.6 limits; ra 360 is ra 0
    ("CIRCLE +.5 -0 1E1", Circle(0.5, 0.0, 10.0)),
    ("RANGE 10 20 -5 5", Range(10.0, 20.0, -5.0, 5.0)),
    ("RANGE -Inf +Inf -inf +INF", Range(0.0, 360.0, -90.0, 90.0)),  # open ends are the axis' ends
    ("RANGE 0 360 -infinity 0", Range(0.0, 360.0, -90.0, 0.0)),
    ("RANGE 10 10 5 5", Range(10.0, 10.0, 5.0, 5.0)),
    ("POLYGON 10 10 11 10 10.5 11", Polygon(((10.0, 10.0), (11.0, 10.0), (10.5, 11.0)))),
    ("POLYGON 359 0 360 0 0 1 1 1", Polygon(((359.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)))),
]


@pytest.mark.parametrize("text, shape", VALID, ids=[t for t, _ in VALID])
def test_valid_pos_values_are_typed_shapes(text, shape):
    assert parse_pos(text) == shape


def test_the_bare_shapes_read_as_in_pos():
    assert parse_circle("10 20 0.5") == parse_pos("CIRCLE 10 20 0.5")
    assert parse_polygon("1 1 2 1 1 2") == parse_pos("POLYGON 1 1 2 1 1 2")
    assert parse_range("1 2 3 4") == parse_pos("RANGE 1 2 3 4")


INVALID = [
    # (parameter name, text, words the message must hold)
    ("POS", "CIRCLE 10 20", "POS CIRCLE must be three numbers"),
    ("POS", "CIRCLE 10 20 1 2", "POS CIRCLE must be three numbers"),
    ("POS", "CIRCLE ten 20 1", "POS CIRCLE must be numbers separated by blanks; 'ten' is not a number"),
    ("POS", "CIRCLE 10 20 NaN", "'NaN' is not a number"),
    ("POS", "CIRCLE 10 20 1_0", "'1_0' is not a number"),  # Python reads it; DALI does not
    ("POS", "CIRCLE 10 20 +Inf", "POS CIRCLE must be finite numbers"),
    ("POS", "CIRCLE 361 20 1", "POS CIRCLE: 361 is outside 0..360 degrees (ra, longitude)"),
    ("POS", "CIRCLE -1 20 1", "outside 0..360"),
    ("POS", "CIRCLE 10 95 1", "POS CIRCLE: 95 is outside -90..90 degrees (dec, latitude)"),
    ("POS", "CIRCLE 10 20 0", "POS CIRCLE: the radius must be positive, not 0"),
    ("POS", "CIRCLE 10 20 -1", "the radius must be positive"),
    ("POS", "CIRCLE 10 20 180.5", "POS CIRCLE: a radius of 180.5 degrees is more than 180"),
    ("POS", "RANGE 10 20 0", "POS RANGE must be four numbers"),
    ("POS", "RANGE 20 10 0 1", "POS RANGE: an interval must go from low to high"),
    ("POS", "RANGE 10 20 1 0", "from low to high"),
    ("POS", "RANGE 10 20 0 91", "POS RANGE: 91 is outside -90..90 degrees"),
    ("POS", "RANGE 10 20 0 nan", "'nan' is not a number"),
    ("POS", "POLYGON 10 10 11 10", "POS POLYGON needs at least 3 vertices"),
    ("POS", "POLYGON 10 10 11 10 12", "POS POLYGON must be pairs of numbers"),
    ("POS", "POLYGON 10 10 10 10 10 10", "POS POLYGON needs at least 3 distinct vertices"),
    ("POS", "POLYGON 10 10 11 10 10 -Inf", "POS POLYGON must be finite numbers"),
    ("POS", "POLYGON 10 10 11 10 10 91", "POS POLYGON: 91 is outside -90..90"),
    ("POS", "POLYGON " + "1 2 " * 1001, "POS POLYGON may have at most 1000 vertices"),
    ("POS", "BOX 10 20 1 1", "POS must start with CIRCLE, RANGE or POLYGON: unknown shape 'BOX'"),
    ("POS", "", "POS must start with CIRCLE, RANGE or POLYGON: it is empty"),
    ("POS", "CIRCLE", "POS CIRCLE must be three numbers"),
]


@pytest.mark.parametrize("name, text, message", INVALID, ids=[t[:40] for _, t, _ in INVALID])
def test_invalid_pos_values_are_refused_naming_the_parameter(name, text, message):
    with pytest.raises(DaliParameterError) as refused:
        parse_pos(text, name)
    assert message in str(refused.value)
    assert str(refused.value).startswith(name)


def test_the_parameter_name_and_the_service_limits_are_the_callers():
    with pytest.raises(DaliParameterError, match=r"^CIRCLE: a radius of 120 degrees is more than 90"):
        parse_circle("10 20 120", "CIRCLE", max_radius=90.0)
    with pytest.raises(DaliParameterError, match=r"^REGION POLYGON may have at most 3 vertices"):
        parse_polygon("1 1 2 1 1 2 0 0", "REGION POLYGON", max_vertices=3)
    with pytest.raises(DaliParameterError, match=r"^SHAPE CIRCLE must be three"):
        parse_pos("CIRCLE 1", "SHAPE")
    with pytest.raises(DaliParameterError, match="a radius of 100 degrees is more than 90"):
        parse_pos("CIRCLE 1 1 100", max_radius=90.0)


INTERVALS = [
    ("5e-7 6e-7", Interval(5e-7, 6e-7)),
    ("5e-7", Interval(5e-7, 5e-7)),  # a single value v is [v, v]
    ("-Inf 1e-6", Interval(-math.inf, 1e-6)),
    ("58000 +Inf", Interval(58000.0, math.inf)),
    ("-Inf +Inf", Interval(-math.inf, math.inf)),
    ("3 3", Interval(3.0, 3.0)),
]


@pytest.mark.parametrize("text, interval", INTERVALS, ids=[t for t, _ in INTERVALS])
def test_valid_intervals(text, interval):
    assert parse_interval(text, "BAND", "metres") == interval


BAD_INTERVALS = [
    ("6e-7 5e-7", "BAND: the interval '6e-7 5e-7' is inverted"),
    ("1 2 3", "BAND must be an interval 'lo hi' or a single value, in metres"),
    ("abc", "BAND must be numbers separated by blanks; 'abc' is not a number"),
    ("NaN 1", "'NaN' is not a number"),
    ("+Inf +Inf", "BAND: the interval '+Inf +Inf' is empty"),
    ("-Inf", "BAND: the interval '-Inf' is empty"),
    ("2020-01-01", "'2020-01-01' is not a number"),
]


@pytest.mark.parametrize("text, message", BAD_INTERVALS, ids=[t for t, _ in BAD_INTERVALS])
def test_invalid_intervals_are_refused_naming_the_parameter(text, message):
    with pytest.raises(DaliParameterError) as refused:
        parse_interval(text, "BAND", "metres")
    assert message in str(refused.value) and str(refused.value).startswith("BAND")


def test_a_long_bad_word_is_not_repeated_whole():
    with pytest.raises(DaliParameterError) as refused:
        parse_pos("CIRCLE 1 2 " + "x" * 10_000)
    assert len(str(refused.value)) < 200
