"""Error answers of the VO endpoints: a VOTable error document with the right HTTP status.

DALI 1.1 §4.2 and §4.4.2: never an HTML page, never a traceback.
"""
from __future__ import annotations

from django.http import HttpResponse

from vo_services.identity import caller_name
from vo_services.votable.errors import error_document

VOTABLE_MIME = "application/x-votable+xml"


def error_response(message: str, status: int = 400, content_type: str = VOTABLE_MIME) -> HttpResponse:
    return HttpResponse(error_document(message), status=status, content_type=content_type)


def owned_or_refusal(request, model, pk: str, what: str):
    """The ``model`` object ``pk`` (a job, a bundle) if the caller may use it; else its error
    answer: 404 if there is none, 401 or 403 if it is another user's (:func:`refusal`)."""
    found = model.objects.filter(id=pk).first()
    if found is None:
        return error_response(f"NotFoundFault: no {what} {pk}", 404)
    if owned_by_another(request, found.owner):
        return refusal(request, f"AuthorizationFault: {what} {pk} belongs to another user")
    return found


def owned_by_another(request, owner: str | None) -> bool:
    """Jobs and bundles: one made anonymously is anyone's who has its URL; one made by a
    logged-in user is that user's alone (UWS 1.1 §3)."""
    return owner is not None and owner != caller_name(request)


def refusal(request, message: str) -> HttpResponse:
    """A resource the caller may not use: 401 when not logged in (the authentication middleware
    adds the challenges), 403 when logged in (UWS 1.1 §3, IVOA SSO challenges §2)."""
    return error_response(message, 401 if caller_name(request) is None else 403)
