"""The request headers of writes, described once: If-Match (the version read) and X-Change-Reason (why).

Each says exactly what the server takes, so that a client generated from the schema sends it right:
- If-Match: an ETag as the API gives it ("3"), quotes and W/ optional; anything else is a 400 naming
  If-Match. A stale one is a 409; a write that must name its version and does not, a 428.
- X-Change-Reason: it is stripped, and a blank one is none. Where the server always wants one it is
  required, with at least one character that is not a space (400 `reason_required` without); where only
  some states of the record want one, it is optional, blank allowed, and its description says when.
"""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

# The ETags the API sends are a version number in quotes; clients echo them with or without the quotes,
# some with the weak prefix.
ETAG_PATTERN = r'^\s*(?:W/)?"?(\d{1,9})"?\s*$'
ETAG = re.compile(ETAG_PATTERN)
REASON_PATTERN = r"\S"


def if_match_header(description: str) -> OpenApiParameter:
    """The If-Match header of a write that checks the version read (optional: the description says when it
    is needed)."""
    return OpenApiParameter(
        "If-Match",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=False,
        pattern=ETAG_PATTERN,
        description=description,
    )


def reason_header(*, required: bool, description: str) -> OpenApiParameter:
    """The X-Change-Reason header: `required` (and not blank) where the server always wants one."""
    return OpenApiParameter(
        "X-Change-Reason",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=required,
        allow_blank=not required,
        pattern=REASON_PATTERN if required else None,
        description=description,
    )
