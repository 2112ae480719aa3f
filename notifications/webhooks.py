"""The ESP's inbound-mail webhook, and only the configured ESP's.

anymail offers a webhook for every ESP it knows; the portal takes customer
replies from one (INBOUND_EMAIL_ESP). Every other ESP's webhook, and every
tracking webhook (the portal reads no tracking events), answers 404 instead of
reaching an ESP that has no secrets configured (a 500 with a debug page, issue
15 finding 8). A body the ESP's parser cannot read answers 400, not 500.
"""

from __future__ import annotations

import logging
from functools import cache

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger(__name__)


@cache
def inbound_views() -> dict[str, object]:
    """ESP name -> anymail's inbound view, from anymail's own URLconf."""
    suffix = "_inbound_webhook"
    return {
        pattern.name.removesuffix(suffix): pattern.callback
        for pattern in anymail_urls.urlpatterns
        if pattern.name and pattern.name.endswith(suffix)
    }


@csrf_exempt
def inbound_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    view = inbound_views().get(esp)
    if view is None or esp != settings.INBOUND_EMAIL_ESP:
        raise Http404("No inbound mail webhook here.")
    try:
        return view(request)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, LookupError) as error:
        # Malformed JSON or form data the ESP's parser choked on (json.JSONDecodeError
        # is a ValueError). anymail has checked the basic auth first.
        log.warning("inbound webhook %s: unreadable body: %r", esp, error, exc_info=True)
        return HttpResponseBadRequest("Unreadable webhook body.")
