"""/oai: the OAI-PMH endpoint of the publishing registry (OAI-PMH 2.0 §3.1.1: GET and POST)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from vo_services.errors import allow_methods
from vo_services.registry.oai import respond


@csrf_exempt
@allow_methods("GET", "POST")
def oai(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    # OAI-PMH 2.0 §3.6: protocol errors are part of a 200 answer.
    return HttpResponse(respond(params.lists(), get_settings()), content_type="text/xml; charset=utf-8")
