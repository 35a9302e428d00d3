"""The portal's pages: thin views over the domain modules."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from archive.config import get_settings
from vo_services.portal import front


def home(request: HttpRequest) -> HttpResponse:
    """What the archive holds (as the public sees it), the last night, and how to reach the services."""
    base = get_settings().public_url
    night = front.last_night()
    return render(request, "portal/home.html", {
        "holdings": front.holdings(),
        "night": night,
        "night_table_url": front.tap_sync_url(base, front.night_query(night.night)) if night else None,
        "recipes": front.recipes(base),
        "services": [
            ("TAP (ADQL queries; ObsCore table ivoa.obscore)", f"{base}/tap"),
            ("Simple Cone Search", f"{base}/scs"),
            ("Simple Image Access 2.0 (Aladin, pyvo SIA2Service)", f"{base}/sia/query"),
            ("SODA cutouts (offered per image through DataLink)", f"{base}/soda/sync"),
            ("DataLink", f"{base}/datalink/links"),
            ("Registry (OAI-PMH)", f"{base}/oai"),
        ],
    })


def not_found(request: HttpRequest) -> HttpResponse:
    """A page that is not there: the portal's own 404 page, in the site's look."""
    return render(request, "portal/404.html", status=404)
