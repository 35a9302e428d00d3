"""The basket's pages: its list, adding (chosen rows or all results of a search), removing,
calibrations, and downloading it as a bundle with its progress.

Changes are POSTs with Django's CSRF token, each answered by a redirect (POST/redirect/GET), so
the back button and reloading never repeat them. Bundles are made by the DataLink bundle jobs
(:func:`vo_services.datalink.bundle_jobs.submit`), called directly, as the caller.
"""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.views.decorators.http import require_GET, require_POST

from vo_services.datalink import bundle_jobs
from vo_services.datalink.bundles import FORMATS, BundleError, bundle_format
from vo_services.datalink.models import Bundle, Phase
from vo_services.identity import caller_name, principals_for
from vo_services.portal import basket, search, targets
from vo_services.portal.runner import SearchFailed, run_adql
from vo_services.portal.search_views import caller_programs
from vo_services.portal.views import not_found

SHOWN = 200  # rows of the basket listed with their details


@require_GET
def basket_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


def _render(request: HttpRequest, bundle_error: str | None = None, status: int = 200) -> HttpResponse:
    ids = basket.items(request.session)
    try:
        rows = basket.details(ids[:SHOWN], principals_for(request))
    except SearchFailed:
        rows = []
    return render(request, "portal/basket.html", {
        "ids": ids, "rows": rows, "more": max(len(ids) - SHOWN, 0), "capacity": basket.capacity(),
        "formats": [f.name for f in FORMATS], "bundle_error": bundle_error, "prefix": get_script_prefix(),
        "science": sum(1 for r in rows if r["frame_type"] == "science"),
    }, status=status)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("basket"))


@require_POST
def basket_add(request: HttpRequest) -> HttpResponse:
    """``id`` (repeated): the chosen rows; ``all=1`` with ``q``, a search's query string: every
    result of that search, as far as the basket has room."""
    principals = principals_for(request)
    if request.POST.get("all"):
        criteria, form = search.read_form(QueryDict(request.POST.get("q", "")), caller_programs(request))
        if form.errors or not search.has_criteria(QueryDict(request.POST.get("q", ""))):
            messages.error(request, "That search has problems; run it again from the search page.")
            return _back(request)
        room = basket.capacity() + 1
        try:
            if criteria.target:
                criteria.names = targets.matching(criteria.target, principals)
            ids = ([r["obs_id"] for r in run_adql(criteria.ids_adql(room), principals, room).rows]
                   if criteria.names or not criteria.target else [])
        except SearchFailed as exc:
            messages.error(request, f"The search could not run: {exc}")
            return _back(request)
    else:
        ids = basket.visible(request.POST.getlist("id"), principals)
    if not ids:
        messages.warning(request, "Nothing was added: no rows were chosen.")
        return _back(request)
    _tell_added(request, basket.add(request.session, ids), "file", " to the basket",
                f"The basket holds at most {basket.capacity():,} files (one bundle's limit); "
                "the rest were left out.")
    return _back(request)


@require_POST
def basket_remove(request: HttpRequest) -> HttpResponse:
    basket.remove(request.session, request.POST.getlist("id"))
    return _back(request)


@require_POST
def basket_clear(request: HttpRequest) -> HttpResponse:
    basket.clear(request.session)
    messages.success(request, "The basket is empty.")
    return _back(request)


@require_POST
def basket_calibrations(request: HttpRequest) -> HttpResponse:
    """The calibrations of the night and set-up of every science frame in the basket join it."""
    found = basket.calibrations(basket.items(request.session), principals_for(request))
    _tell_added(request, basket.add(request.session, found), "calibration frame", "",
                f"The basket is full ({basket.capacity():,} files); some calibrations were left out.")
    return _back(request)


def _tell_added(request: HttpRequest, added: basket.Added, noun: str, where: str, when_capped: str) -> None:
    """How many ``noun``s joined the basket; a warning, saying ``when_capped``, when its cap
    (one bundle's limit) left some out."""
    text = f"Added {added.added} {noun}{'s' if added.added != 1 else ''}{where}."
    if added.capped:
        messages.warning(request, f"{text} {when_capped}")
    else:
        messages.success(request, text)


@require_POST
def basket_download(request: HttpRequest) -> HttpResponse:
    """A bundle of the basket in the chosen format; over the limits, the message beside the
    button."""
    ids = basket.items(request.session)
    try:
        fmt = bundle_format(request.POST.get("format"))
        made = bundle_jobs.submit(caller_name(request), principals_for(request), ids, fmt)
    except BundleError as exc:
        return _render(request, bundle_error=str(exc).split(": ", 1)[-1], status=400)
    basket.remember_bundle(request.session, made.id)
    return HttpResponseRedirect(reverse("basket_bundle", args=[made.id]))


@require_GET
def bundle_page(request: HttpRequest, bundle_id: str) -> HttpResponse:
    """Progress of a bundle this session asked for (or its logged-in owner's): refreshed by
    search.js from /datalink/bundles/<id>, or without JavaScript by the page's own refresh."""
    bundle = Bundle.objects.filter(id=bundle_id).first()
    mine = bundle is not None and (basket.asked_for(request.session, bundle_id)
                                   or (bundle.owner is not None and bundle.owner == caller_name(request)))
    if not mine:
        return not_found(request)
    done = bundle.phase in (Phase.COMPLETED, Phase.ERROR, Phase.ABORTED, Phase.ARCHIVED)
    return render(request, "portal/bundle.html", {
        "bundle": bundle, "done": done, "ready": bundle.phase == Phase.COMPLETED,
        "prefix": get_script_prefix(),
        "percent": int(100 * bundle.bytes_done / bundle.bytes_total) if bundle.bytes_total else (100 if done else 0),
    })
