"""The API's JSON renderer: an answer that can always be encoded, whatever text it echoes."""

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer (UTF-8, Chinese as is); text UTF-8 cannot encode is sent \\u-escaped instead.

    A lone surrogate cannot be encoded as UTF-8. The parser refuses them, but an answer must never turn into
    a 500 because of what it quotes: the escaped form is valid JSON that says the same thing.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _ASCIIJSONRenderer().render(data, accepted_media_type, renderer_context)


class _ASCIIJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True
