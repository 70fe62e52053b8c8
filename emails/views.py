"""Public endpoints: no login (mail clients fetch them), signed tokens. Tracking (GET only), one-click
unsubscribe and the preference page."""

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from config.errors import NotFoundError
from emails.models import Suppression
from emails.services import email_click_record, email_open_record
from emails.suppressions import (
    BadLink,
    preferences_get,
    preferences_token_read,
    preferences_update,
    suppression_add,
    unsubscribe_token_read,
)
from emails.tracking import BadToken

# The smallest transparent GIF (1×1).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        email_open_record(token=token)
    except (BadToken, NotFoundError) as exc:
        raise Http404("unknown tracking link") from exc
    return HttpResponse(PIXEL, content_type="image/gif", headers=NO_STORE)


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponseRedirect:
    try:
        target = email_click_record(token=token)
    except (BadToken, NotFoundError) as exc:
        raise Http404("unknown tracking link") from exc
    response = HttpResponseRedirect(target)
    for header, value in NO_STORE.items():
        response[header] = value
    return response


# --- unsubscribe (RFC 8058 one-click) and preferences: no login, signed links -------------------

PAGE_HEADERS = {**NO_STORE, "X-Robots-Tag": "noindex"}


def _page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    response = render(request, template, context)
    for header, value in PAGE_HEADERS.items():
        response[header] = value
    return response


@csrf_exempt  # mail clients POST the one-click unsubscribe without cookies; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a small confirmation page (link scanners must not unsubscribe anyone); POST (the page's
    button, or the mail client's `List-Unsubscribe=One-Click`): record the suppression."""
    try:
        target = unsubscribe_token_read(token)
    except BadLink as exc:
        raise Http404("unknown unsubscribe link") from exc
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        suppression_add(
            address=target.address,
            scope=target.scope,
            reason=Suppression.Reason.UNSUBSCRIBED,
            source="one-click (List-Unsubscribe-Post)" if one_click else "unsubscribe page",
        )
    context = {"done": request.method == "POST", "address": target.address, "scope": target.scope}
    return _page(request, "emails/unsubscribe.html", context)


@csrf_exempt  # reached from an email, without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """The person's email preferences: daily digests and weekly job emails, on or off."""
    try:
        _user_id, address = preferences_token_read(token)
    except BadLink as exc:
        raise Http404("unknown preferences link") from exc
    saved = False
    if request.method == "POST":
        current = preferences_update(
            address=address,
            digest=request.POST.get("digest") == "on",
            job_recommendation=request.POST.get("job_recommendation") == "on",
        )
        saved = True
    else:
        current = preferences_get(address=address)
    return _page(request, "emails/preferences.html", {"address": address, "prefs": current, "saved": saved})
