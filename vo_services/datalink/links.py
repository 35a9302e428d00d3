"""DataLink 1.1 {links}: what a user can fetch for each observation, as rows of a links table.

For each ID (an ``obs_publisher_did``): the file itself (``#this``), a PNG quick-look
(``#preview``), the FITS header as text (``#detached-header``), the calibration frames of the same
night and set-up (``#calibration``: bias, dark, flat, arc and focus frames, the frame types the
access rules treat as calibrations) and, for a Kast frame, the frame that the spectrograph's other
arm exposed at the same time (``#auxiliary``). Everything is looked up through the published
views, under the caller's identity, so a frame the caller may not see is never a ``#calibration``
or ``#auxiliary`` link. An observation in its proprietary period that the caller may not see gets
one row: ``#this`` with ``link_authorized`` false (DataLink 1.1 §3.2.9) and nothing about the
file, so that a client knows to log in; an unknown ID gets a ``NotFoundFault`` row.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from archive.columns import Column
from archive.config import get_settings
from archive.db import engine
from archive.schema import observation
from archive.standards import FITS_MIME
from ingest.access import CALIBRATION_FRAMES
from ingest.flags import IngestFlag
from vo_services.service_descriptors import soda_descriptor
from vo_services.results.query import query_session

MAX_IDS = 1000
#: The service_def of an image's #cutout row: this and a number (an XML ID of the response).
CUTOUT_PREFIX = "soda_"
#: Kast splits the light with a dichroic onto two cameras that expose together: each arm's frame
#: has the other arm's frame of the same exposure as auxiliary data.
KAST_ARMS = {"Kast Blue": "Kast Red", "Kast Red": "Kast Blue"}


@dataclass(frozen=True)
class Link:
    id: str
    access_url: str | None
    service_def: str | None
    error_message: str | None
    description: str
    semantics: str
    content_type: str | None
    content_length: int | None
    content_qualifier: str | None = None
    link_authorized: bool | None = None

    def row(self) -> tuple:
        return (self.id, self.access_url, self.service_def, self.error_message, self.description,
                self.semantics, self.content_type, self.content_length, self.content_qualifier,
                self.link_authorized)


# DataLink 1.1 §3.2: the columns by name, with their UCDs.
FIELDS = (
    Column("ID", "VARCHAR", ucd="meta.id;meta.main"),
    Column("access_url", "VARCHAR", ucd="meta.ref.url"),
    Column("service_def", "VARCHAR", ucd="meta.ref"),
    Column("error_message", "VARCHAR", ucd="meta.code.error"),
    Column("description", "VARCHAR", ucd="meta.note"),
    Column("semantics", "VARCHAR", ucd="meta.code"),
    Column("content_type", "VARCHAR", ucd="meta.code.mime"),
    Column("content_length", "BIGINT", unit="byte", ucd="phys.size;meta.file"),
    Column("content_qualifier", "VARCHAR", ucd="meta.code.class"),
    Column("link_authorized", "BOOLEAN", ucd="meta.code"),
)

_LOOKUP = """
SELECT obs_publisher_did, obs_id, dataproduct_type, telescope, instrument, frame_type,
       observing_night, grating, grism, slit, dichroic, filters, file_size, target_name,
       t_min, exptime, ingest_flags
FROM lick.observations WHERE obs_publisher_did = ANY (%s)
"""

_CALIBRATIONS = """
SELECT obs_id, frame_type, file_size, target_name FROM lick.observations
WHERE telescope = %s AND instrument = %s AND observing_night = %s AND frame_type = ANY (%s)
  AND grating IS NOT DISTINCT FROM %s AND grism IS NOT DISTINCT FROM %s
  AND dichroic IS NOT DISTINCT FROM %s
  AND (frame_type IN ('bias', 'dark') OR filters IS NOT DISTINCT FROM %s)
ORDER BY frame_type, obs_id
"""

# Frames of another instrument whose exposure overlaps [start, end] (MJD), both ends included so
# that the two arms' zero-length biases match. lick.observations has t_min and exptime, not
# t_max: an exposure is [t_min, t_min + exptime]. Frames timed by their directory alone (noon of
# the night) were not exposed at a known time and overlap nothing.
_SIMULTANEOUS = """
SELECT obs_id, file_size FROM lick.observations
WHERE telescope = %s AND observing_night = %s AND instrument = %s
  AND t_min <= %s AND t_min + coalesce(exptime, 0) / 86400 >= %s AND ingest_flags & %s = 0
ORDER BY t_min, obs_id
"""


def service_urls() -> dict[str, str]:
    base = get_settings().public_url
    return {"download": f"{base}/datalink/download", "preview": f"{base}/datalink/preview",
            "header": f"{base}/datalink/header"}


def links_for(ids: Sequence[str], principals: Sequence[str] = ()) -> list[Link]:
    """The links of every ID, the rows of one ID together and in the order the IDs came (§2.1.1)."""
    urls = service_urls()
    with query_session(principals) as conn, conn.cursor() as cur:
        cur.execute(_LOOKUP, (list(ids),))
        found = {row[0]: row for row in cur.fetchall()}
        hidden = _proprietary([i for i in ids if i not in found])
        links: list[Link] = []
        cutouts = 0
        for id_ in ids:
            row = found.get(id_)
            if row is None and id_ in hidden:
                links.append(Link(id_, f"{urls['download']}/{hidden[id_]}", None, None,
                                  "The FITS file, in its proprietary period: log in as one of its observers",
                                  "#this", None, None, None, False))
                continue
            if row is None:
                links.append(Link(id_, None, None, f"NotFoundFault: {id_} is not an observation of this archive",
                                  "", "#this", None, None))
                continue
            (_, obs_id, product, telescope, instrument, frame_type, night, grating, grism, slit,
             dichroic, filters, size, target, t_min, exptime, flags) = row
            qualifier = f"#{product}"
            links += [
                Link(id_, f"{urls['download']}/{obs_id}", None, None,
                     f"The FITS file ({instrument}, {frame_type}, {target or 'no target'})", "#this",
                     FITS_MIME, size, qualifier, True),
                Link(id_, f"{urls['preview']}/{obs_id}", None, None, "A PNG quick-look of the data",
                     "#preview", "image/png", None, None, True),
                Link(id_, f"{urls['header']}/{obs_id}", None, None, "The primary FITS header as text",
                     "#detached-header", "text/plain", None, None, True),
            ]
            if product == "image":
                cutouts += 1
                links.append(Link(id_, None, f"{CUTOUT_PREFIX}{cutouts}",
                                  None, "A cutout of the image by sky region (SODA: CIRCLE, POLYGON or POS)",
                                  "#cutout", FITS_MIME, None, "#image", True))
            if frame_type == "science":
                cur.execute(_CALIBRATIONS, (telescope, instrument, night, sorted(CALIBRATION_FRAMES),
                                            grating, grism, dichroic, filters))
                for cal_id, cal_type, cal_size, cal_target in cur.fetchall():
                    links.append(Link(id_, f"{urls['download']}/{cal_id}", None, None,
                                      f"A {cal_type} frame of the same night and set-up ({cal_target or cal_type})",
                                      "#calibration", FITS_MIME, cal_size, None, True))
            other_arm = KAST_ARMS.get(instrument)
            if other_arm and t_min is not None and not flags & IngestFlag.DATE_FROM_DIRECTORY:
                # DataLink 1.1 §3.2.6 and the core vocabulary (http://www.ivoa.net/rdf/datalink/core):
                # #auxiliary is "auxiliary data", such as the other arm's spectrum of one exposure.
                cur.execute(_SIMULTANEOUS, (telescope, night, other_arm, t_min + (exptime or 0) / 86400,
                                            t_min, int(IngestFlag.DATE_FROM_DIRECTORY)))
                links += [Link(id_, f"{urls['download']}/{aux_id}", None, None,
                               f"The {other_arm} frame exposed at the same time (the spectrograph's other arm)",
                               "#auxiliary", FITS_MIME, aux_size, None, True)
                          for aux_id, aux_size in cur.fetchall()]
    return links


def service_descriptors(links: Sequence[Link]) -> list[str]:
    """The descriptors the ``service_def`` of ``links`` name: one SODA descriptor per image,
    with its ID fixed, so that a client holding any record of the image finds its cutouts."""
    return [soda_descriptor(link.service_def, id_value=link.id) for link in links
            if link.service_def and link.service_def.startswith(CUTOUT_PREFIX)]


def _proprietary(dids: Sequence[str]) -> dict[str, str]:
    """obs_id of each of ``dids`` that the archive holds, although the caller cannot see it."""
    if not dids:
        return {}
    o = observation.c
    with engine("owner").connect() as conn:
        rows = conn.execute(select(o.obs_publisher_did, o.obs_id).where(o.obs_publisher_did.in_(list(dids))))
        return {did: obs_id for did, obs_id in rows}
