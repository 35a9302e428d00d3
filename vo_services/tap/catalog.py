"""The ADQL catalogue of this service, built once per process from archive.published.

The translator knows tables only through its catalogue protocol (:mod:`vo_services.tap.adql.catalog`);
this is where the published tables become such a catalogue. Their columns go in as they are
(:class:`archive.published.PublishedColumn` is an :class:`archive.columns.Column`, which the
protocol accepts), so a result column selected from one is that column.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from archive.published import PUBLISHED_TABLES
from vo_services.tap.adql import Catalog, CountSource, TableInfo


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The published views and TAP_SCHEMA. A name quoted in the view's SQL (TAP_SCHEMA's
    ``"size"``, an ADQL reserved word) is the column's name without the quotes."""
    return Catalog(
        TableInfo(published.schema, published.name,
                  tuple(replace(c, name=c.name.strip('"')) if c.name.startswith('"') else c
                        for c in published.public_columns),
                  point_columns=dict(published.point_columns),
                  counts=tuple(CountSource(column, counted.function, counted.published_type)
                               for column, counted in published.counted_by))
        for published in PUBLISHED_TABLES)
