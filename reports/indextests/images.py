"""A heatmap image is judged by its bytes, never its name: a PNG (signature and IHDR chunk) or a baseline or
progressive JPEG (SOI, then a frame header before the end). Header checks, not a decoder: the file is only
stored and served back as the type found here, with nosniff, so a file that passes is at worst a broken
picture, never HTML or a script in disguise."""

import struct

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

MAX_HEATMAP_BYTES = 5 * 1024 * 1024  # a Grad-CAM overlay of one CT slice is tens of kilobytes
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (SOF0-SOF15 but DHT C4, JPG C8 and DAC CC).
JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_type(data: bytes) -> str | None:
    """'image/png' or 'image/jpeg' if the bytes are one, else None."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 33 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "image/png" if width and height else None
    if data.startswith(b"\xff\xd8\xff") and _jpeg_has_frame(data):
        return "image/jpeg"
    return None


def _jpeg_has_frame(data: bytes) -> bool:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return False
        marker = data[at + 1]
        if marker in JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9]) if at + 9 <= len(data) else (0, 0)
            return bool(width and height)
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame
            return False
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    return False


def heatmap_response(output) -> FileResponse:
    """The vertebra's heatmap as stored, served as the type its bytes were judged to be, never sniffed nor
    cached; 404 when none is attached or its file is gone from storage."""
    if not output.heatmap:
        raise Http404(_("No heatmap is attached to this vertebra's output."))
    try:
        image = output.heatmap.open("rb")
    except FileNotFoundError:  # the row names a file that is gone from storage: none to show
        raise Http404(_("No heatmap is attached to this vertebra's output.")) from None
    response = FileResponse(image, content_type=output.heatmap_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
