"""Public tracking endpoints: no login (mail clients fetch them), signed tokens, GET only."""

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from config.errors import NotFoundError
from emails.services import email_click_record, email_open_record
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
