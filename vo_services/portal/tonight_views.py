"""Tonight (/tonight) and the fragment its page polls (/tonight/frames): thin views over
:mod:`.tonight`."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.views.decorators.http import require_http_methods

from vo_services.identity import caller_name, principals_for
from vo_services.portal.tonight import tonight as tonights_frames

POLL_SECONDS = 5  # the watcher brings a file in within seconds


def _context(request: HttpRequest) -> dict:
    night = tonights_frames(principals_for(request))
    return {"tonight": night, "prefix": get_script_prefix(), "poll_seconds": POLL_SECONDS}


@require_http_methods(["GET", "HEAD"])
def tonight(request: HttpRequest) -> HttpResponse:
    """The logged-in observer's night; anyone else is asked to log in."""
    if caller_name(request) is None:
        return render(request, "portal/tonight.html", {"anonymous": True})
    return render(request, "portal/tonight.html", _context(request))


@require_http_methods(["GET", "HEAD"])
def tonight_frames(request: HttpRequest) -> HttpResponse:
    """JSON for the page's poll: ``version`` of the list, and its rows as HTML when the list
    differs from the ``since`` version the page shows (``changed`` false otherwise)."""
    if caller_name(request) is None:
        return JsonResponse({"error": "log in to see your night"}, status=401)
    context = _context(request)
    version = context["tonight"].version
    answer: dict = {"version": version, "night": context["tonight"].night.isoformat(),
                    "count": len(context["tonight"].frames), "changed": request.GET.get("since") != version}
    if answer["changed"]:
        answer["rows"] = render_to_string("portal/tonight_rows.html", context, request)
    response = JsonResponse(answer)
    response["Cache-Control"] = "no-store"
    return response
