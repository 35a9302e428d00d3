"""The search page, its target-name suggestions, and the page of one observation.

Every query here is ADQL run as the caller through :mod:`vo_services.portal.runner` (the TAP
translator and the result engine's cursor): the published views' access rule decides what anyone
sees, on these pages as in TAP.
"""
from __future__ import annotations

import threading
import urllib.parse
from datetime import datetime, timezone

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import get_script_prefix
from django.views.decorators.http import require_GET

from archive.config import get_settings
from vo_services.datalink.links import links_for
from vo_services.identity import principals_for
from vo_services.portal import basket, search, targets
from vo_services.portal.adql_text import UnsafeText, check_text, string
from vo_services.portal.runner import SearchFailed, run_adql
from vo_services.portal.views import not_found
from vo_services.usage_limits import page_rate_limited

PAGING = ("after", "before")


def caller_programs(request: HttpRequest) -> tuple[str, ...] | None:
    """The caller's programs, or None when nobody is logged in."""
    if not request.user.is_authenticated:
        return None
    return tuple(p.split(":", 1)[1] for p in principals_for(request) if p.startswith("program:"))


def _query(params: QueryDict, **changes) -> str:
    """The query string with ``changes`` (None removes a parameter)."""
    copy = params.copy()
    for name, value in changes.items():
        copy.pop(name, None)
        if value is not None:
            copy[name] = value
    return copy.urlencode()


def _search_query(params: QueryDict) -> str:
    """The search itself, without its page: what "all results" and sorting start from."""
    return _query(params, **{name: None for name in (*PAGING, "n")})


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """GET form, results below it; every search is a URL, so links, bookmarks and the back
    button work without JavaScript."""
    params = request.GET
    principals = principals_for(request)
    criteria, form = search.read_form(params, caller_programs(request))
    context = {"form": form, "criteria": criteria, "values": params, "searched": False,
               "sorts": search.SORTS, "telescopes": search.TELESCOPES, "instruments": search.INSTRUMENTS,
               "frame_types": search.FRAME_TYPES, "access_choices": search.ACCESS,
               "max_radius": search.MAX_RADIUS_ARCMIN, "default_radius": search.DEFAULT_RADIUS_ARCMIN,
               "logged_in": request.user.is_authenticated, "prefix": get_script_prefix(),
               "chosen_frames": set(params.getlist("frame"))}
    if criteria.target and "target" not in form.errors:
        try:
            criteria.names = targets.matching(criteria.target, principals)
        except SearchFailed as exc:
            form.errors["target"] = f"The name could not be looked up: {exc}"
        else:
            if not criteria.names:
                near = targets.suggestions(criteria.target[:3], principals)[:5]
                form.errors["target"] = (f"No observation you may see has the target “{criteria.target}”"
                                         + (f"; names in the archive include {', '.join(near)}" if near else ""))
    status = 400 if form.errors else 200
    if search.has_criteria(params) and not form.errors:
        if (limited := page_rate_limited(request)) is not None:  # results run a query, as /tap/sync does
            form.notices.append(limited)
            status = 429
        else:
            context.update(_results(request, criteria, principals))
    return render(request, "portal/search.html", context, status=status)


def _results(request: HttpRequest, criteria: search.Criteria, principals) -> dict:
    params = request.GET
    page_adql = criteria.adql()
    count_cap = basket.capacity() + 1
    # The first page's count runs beside its rows, on a connection of its own.
    counting = _Background(run_adql, criteria.count_adql(count_cap), principals, 1) if criteria.page is None else None
    try:
        rows = run_adql(page_adql, principals, search.PAGE_ROWS + 1).rows
        counted = _count(params, criteria, rows, counting, principals)
    except SearchFailed as exc:
        return {"searched": True, "failure": str(exc), "adql": page_adql}
    finally:
        if counting is not None:
            counting.join()
    backward = bool(criteria.page and criteria.page.backward)
    more = len(rows) > search.PAGE_ROWS
    rows = rows[:search.PAGE_ROWS]
    if backward:
        rows.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = criteria.page is not None, more
    for row in rows:
        row["show"] = _shown(row)
    base = _search_query(params)
    links = {}
    if rows and has_next:
        links["next"] = _query(params, before=None, after=criteria.key_of(rows[-1]).encode(), n=str(counted))
    if rows and has_previous:
        links["previous"] = _query(params, after=None, before=criteria.key_of(rows[0], True).encode(),
                                   n=str(counted))
    export = criteria.export_adql()
    tap = f"{get_script_prefix()}tap/sync?"
    return {
        "searched": True, "rows": rows, "adql": page_adql, "export_adql": export,
        "count": counted, "count_capped": counted >= count_cap, "capacity": basket.capacity(),
        "page_links": links, "search_query": base,
        "sort_links": _sort_links(params, criteria),
        "exports": [(label, tap + _export_query(export, fmt))
                    for label, fmt in (("VOTable", "votable"), ("CSV", "csv"))],
    }


def _shown(row: dict) -> dict:
    """A result row's cells as text, made here rather than by template filters (Django's date
    and number filters cost more than the query on a page of 50 rows)."""
    night, moment, release = row["observing_night"], row["date_obs"], row["obs_release_date"]
    ra, dec, exposure = row["s_ra"], row["s_dec"], row["exptime"]
    return {
        "path": urllib.parse.quote(row["obs_id"], safe="/"),
        "night": night.strftime("%Y-%m-%d") if night else "",
        "time": moment.strftime("%H:%M:%S") if moment else "",
        "ra": "" if ra is None else f"{ra:.5f}", "dec": "" if dec is None else f"{dec:+.5f}",
        "exposure": "" if exposure is None else f"{exposure:g}",
        "release": release.strftime("%Y-%m-%d") if release else "not set",
        "proprietary": search.is_proprietary(release),
    }


class _Background(threading.Thread):
    """A call run in a thread, its result or exception handed over by :meth:`result`."""

    def __init__(self, call, *args):
        super().__init__(daemon=True)
        self._call, self._args, self._value, self._error = call, args, None, None
        self.start()

    def run(self) -> None:
        try:
            self._value = self._call(*self._args)
        except BaseException as exc:  # noqa: BLE001  (raised again in the request's thread)
            self._error = exc

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self._value


def _as_text(row: dict) -> list[tuple[str, str]]:
    """Metadata as (name, text): dates as dates (ISO 8601, UTC), never "March 3, 2003, midnight"."""
    shown = []
    for name, value in row.items():
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc) if value.tzinfo else value
            text = (value.strftime("%Y-%m-%d") if (value.hour, value.minute, value.second) == (0, 0, 0)
                    else value.strftime("%Y-%m-%d %H:%M:%S UTC"))
        else:
            text = "" if value is None else str(value)
        shown.append((name, text))
    return shown


def _count(params: QueryDict, criteria: search.Criteria, rows: list, counting: _Background | None,
           principals) -> int:
    """How many results (up to the basket's capacity + 1): counted with the first page (whose
    own rows say it when they are all), then carried by the page links (``n``), so that paging
    costs no count. A tampered ``n`` changes only the number shown: "add all" runs the search."""
    if counting is not None:
        counted = counting.result().rows[0]["n"]
        return len(rows) if len(rows) <= search.PAGE_ROWS else counted
    carried = params.get("n", "")
    if carried.isdigit() and int(carried) <= basket.capacity() + 1:
        return int(carried)
    return run_adql(criteria.count_adql(basket.capacity() + 1), principals, 1).rows[0]["n"]


def _export_query(adql: str, fmt: str) -> str:
    query = QueryDict(mutable=True)
    query.update({"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": fmt, "QUERY": adql})
    return query.urlencode()


def _sort_links(params: QueryDict, criteria: search.Criteria) -> list[dict]:
    """A header per sortable column: a link that sorts by it (the other way if it is the sort
    already), and its aria-sort state."""
    headers = []
    for name, key in search.SORTS.items():
        current = criteria.sort == name
        descending = not criteria.descending if current else name in ("time", "night", "release")
        headers.append({
            "name": name, "label": key.label,
            "aria": ("descending" if criteria.descending else "ascending") if current else None,
            "href": "?" + _query(params, after=None, before=None, n=None, sort=name, dir="desc" if descending else "asc"),
        })
    return headers


@require_GET
def target_names(request: HttpRequest) -> JsonResponse:
    """Suggestions for the target field (<datalist>): names the caller may see that begin like
    ``q``, case- and space-insensitively."""
    typed = (request.GET.get("q") or "")[:search.MAX_TEXT]
    try:
        names = targets.suggestions(check_text(typed), principals_for(request))
    except UnsafeText:
        names = []
    response = JsonResponse({"names": names})
    response["Cache-Control"] = "private, max-age=60"
    return response


@require_GET
def observation_page(request: HttpRequest, obs_id: str) -> HttpResponse:
    """Everything about one observation the caller may see. One the caller may not see is the
    same 404 as one that does not exist, so the page tells nothing about hidden data."""
    principals = principals_for(request)
    try:
        condition = f"obs_id = {string(obs_id)}"
        found = run_adql(f"SELECT * FROM lick.observations WHERE {condition}", principals, 1).rows
        core = run_adql(f"SELECT * FROM ivoa.obscore WHERE {condition}", principals, 1).rows if found else []
    except (UnsafeText, SearchFailed):
        found = []
    if not found:
        return not_found(request)
    row = found[0]
    header = row.pop("header", None) or ""
    links = links_for([row["obs_publisher_did"]], principals)
    download = get_settings().public_url + "/datalink/download/"
    related = [{"obs_id": link.access_url[len(download):], "semantics": link.semantics,
                "description": link.description, "size": link.content_length}
               for link in links if link.semantics in ("#calibration", "#auxiliary")
               and link.access_url and link.access_url.startswith(download)]
    return render(request, "portal/observation.html", {
        "obs": row, "fields": _as_text(row), "obscore": _as_text(core[0]) if core else [],
        "header": header, "related": related,
        "prefix": get_script_prefix(), "in_basket": row["obs_id"] in basket.items(request.session),
        "proprietary": search.is_proprietary(row.get("obs_release_date")),
    })
