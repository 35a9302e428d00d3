"""The ADQL catalogue of this service, built once per process from archive.published."""
from __future__ import annotations

from functools import lru_cache

from vo_services.tap.adql import Catalog


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return Catalog.from_published()
