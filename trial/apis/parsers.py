"""The project's JSON parser, and the middleware that reads every JSON body with it before any view runs.

Two request shapes used to answer 500: a body nested so deep that json's decoder raised RecursionError,
and a lone surrogate ("\\ud800") in a key or a value, which json accepts but which no UTF-8 answer that
echoes it, and no PostgreSQL text, can hold. The parser refuses both with a ParseError (400, a clear
message). The middleware parses every JSON request body up front, API and pages alike, so a body that
cannot be read is refused before a view acts on the request, even a view that never reads its body (a
life-cycle step, a revocation).
"""

import io

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.mediatypes import media_type_matches

# Containers (objects and arrays) inside one another. The deepest real body is a CRF save, about 4 levels
# ({"data": {"levels": [{...}]}}); 32 leaves room for any form to come while staying far below Python's
# recursion limit (1000), which json, copy.deepcopy and the serializers all hit long before a body is large.
MAX_DEPTH = 32


def json_shape_check(data) -> None:
    """Raise ParseError if `data` (parsed JSON) is nested deeper than MAX_DEPTH or holds a lone surrogate.

    Iterative, so that checking a deep body cannot itself overflow the stack.
    """
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _text_check(value)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key in value:
                    _text_check(key)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)


def _text_check(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(
            _(
                "The JSON body holds a lone surrogate (\\ud800-\\udfff), which is not a character: "
                "send text as UTF-8, and characters outside the BMP as a surrogate pair."
            )
        ) from None


def _too_deep() -> ParseError:
    return ParseError(_("The JSON body is nested deeper than %(limit)d levels.") % {"limit": MAX_DEPTH})


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_DEPTH and lone surrogates (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        json_shape_check(data)
        return data


class JSONBodyMiddleware:
    """Parse every JSON request body with JSONParser before any view: one that cannot be read is a 400.

    The answer is JSON like the API's errors ({"detail", "code"}), in the request's language, and ASCII
    (JsonResponse escapes everything else), so it can always be encoded.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.parser = JSONParser()

    def __call__(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type and media_type_matches(self.parser.media_type, content_type) and request.body:
            stream = io.BytesIO(request.body)
            context = {"encoding": request.encoding or settings.DEFAULT_CHARSET}
            try:
                self.parser.parse(stream, content_type, context)
            except ParseError as error:
                return JsonResponse({"detail": str(error.detail), "code": error.default_code}, status=400)
        return self.get_response(request)
