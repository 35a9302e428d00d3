"""SODA 1.0 sync (``/soda/sync``) and its VOSI resources.

Errors are text/plain documents whose first word is SODA 1.0 §5.2's (DALI 1.1 §4.2;
``errors.soda_error``, which the shared refusals, 405s and the NUL guard use here too):
``UsageError`` (400) for a bad request or an ID that is no image, ``MultiValuedParamNotSupported``
(400) for a second ID or region, ``NotFoundFault`` (404) for an unknown ID, and for a proprietary
frame exactly what a download answers (``datalink.views.withheld``): 401 ``AuthenticationError``
anonymous, 403 ``AuthorizationError`` logged in.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from archive.standards import FITS_MIME
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.dali.values import Shape, parse_circle, parse_polygon, parse_pos
from vo_services.datalink.bundles import obs_id_of
from vo_services.datalink.files import locate_one
from vo_services.datalink.views import withheld
from vo_services.errors import allow_methods, soda_error
from vo_services.identity import principals_for
from vo_services.soda.cutout import NotAnImage, RegionTooLarge, UnreadableFrame, cut, open_frame

#: SODA 1.0 §3.3: other filters, which images of this archive (one band, one time, one
#: polarization state) have nothing to cut by.
UNSUPPORTED = ("BAND", "TIME", "POL")
FITS_FORMATS = ("", "fits", FITS_MIME, "image/fits")
#: A radius beyond this is no cutout of a frame of this archive (all under a degree across) but
#: a mistake (arcseconds given as degrees, say); refused rather than served as the whole frame.
MAX_RADIUS_DEG = 90.0
#: SODA 1.0 §3.3: the regions, DALI 1.1 §3.3 values in ICRS degrees (vo_services.dali.values).
REGIONS: dict[str, Callable[[str, str], Shape]] = {
    "POS": partial(parse_pos, max_radius=MAX_RADIUS_DEG),
    "CIRCLE": partial(parse_circle, max_radius=MAX_RADIUS_DEG),
    "POLYGON": parse_polygon,
}
_REFUSALS = {401: "AuthenticationError", 403: "AuthorizationError", 404: "NotFoundFault"}


class SodaError(Exception):
    def __init__(self, fault: str, message: str, status: int = 400):
        super().__init__(f"{fault}: {message}")
        self.status = status


def _one(params: DaliParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise SodaError("MultiValuedParamNotSupported", f"{name} may be given only once here")
    return values[0] if values else None


def _region(params: DaliParams) -> Shape | None:
    given = [(name, value) for name in REGIONS for value in params.getlist(name)]
    if len(given) > 1:
        raise SodaError("MultiValuedParamNotSupported",
                        "one region per request: one of POS, CIRCLE or POLYGON, once")
    if not given:
        return None  # no filter: the whole frame (with its WCS written in)
    name, value = given[0]
    try:
        return REGIONS[name](value, name)
    except DaliParameterError as exc:
        raise SodaError("UsageError", str(exc)) from None


def _check(params: DaliParams) -> tuple[str, Shape | None]:
    """The ID and the region, or a SodaError: everything that needs no database."""
    identifier = (_one(params, "ID") or "").strip()
    if not identifier:
        raise SodaError("UsageError", "ID is required: the image's identifier, as DataLink gives it")
    for name in UNSUPPORTED:
        if params.getlist(name):
            raise SodaError("UsageError", f"{name} is not supported: images are cut by POS, CIRCLE or POLYGON")
    fmt = (_one(params, "RESPONSEFORMAT") or "").split(";")[0].strip().lower()
    if fmt not in FITS_FORMATS:
        raise SodaError("UsageError", f"RESPONSEFORMAT '{fmt[:60]}' is not supported; cutouts are {FITS_MIME}")
    return identifier, _region(params)


def _cutout(request: HttpRequest, identifier: str, region: Shape | None) -> HttpResponse:
    obs_id = obs_id_of(identifier, get_settings().ivoa_authority)
    if obs_id is None:
        raise SodaError("NotFoundFault", f"{identifier[:200]} is not an observation of this archive", 404)
    found = locate_one(obs_id, principals_for(request))
    if found is None:  # the rule of downloads: 404, or 401/403 for a proprietary frame
        status, reason = withheld(request, obs_id)
        raise SodaError(_REFUSALS[status], reason, status)
    if not found.path.is_file():
        raise SodaError("NotFoundFault", f"the file of {obs_id} is missing from the archive's disk", 404)
    if found.dataproduct_type != "image":
        raise SodaError("UsageError", f"{obs_id} is a {found.dataproduct_type}, not an image: "
                        "only images are cut; download the whole file instead")
    try:
        frame = open_frame(found.path, found.rel_path, obs_id)
        data = cut(frame, region)
    except NotAnImage as exc:
        raise SodaError("UsageError", str(exc)) from None
    except RegionTooLarge as exc:
        raise SodaError("UsageError", str(exc)) from None
    except UnreadableFrame as exc:
        raise SodaError("NotFoundFault", f"the file of {obs_id} cannot be read as an image: {exc}", 404) from None
    if data is None:
        return HttpResponse(status=204)  # SODA 1.0 §5.1: no pixel in the region
    stem = found.name.split(".", 1)[0]
    response = HttpResponse(data, content_type=FITS_MIME)
    response["Content-Disposition"] = f'attachment; filename="{stem}_cutout.fits"'
    return response


@csrf_exempt
@allow_methods("GET", "POST")
def sync(request: HttpRequest) -> HttpResponse:
    """One cutout of one image (SODA 1.0 §2, {sync}; DALI GET or POST)."""
    params = DaliParams.from_request(request)
    try:
        identifier, region = _check(params)
        return _cutout(request, identifier, region)
    except SodaError as exc:
        return soda_error(str(exc), exc.status)


@allow_methods("GET")
def capabilities(request: HttpRequest) -> HttpResponse:
    from vo_services.soda.capabilities import capabilities_xml

    return HttpResponse(capabilities_xml(f"{get_settings().public_url}/soda"), content_type="text/xml")
