"""A heatmap is judged by its bytes (reports/indextests/images.py): PNG and JPEG headers, nothing else."""

import struct

import pytest

from reports.indextests.images import image_type

from .pictures import jpeg_header, png


def test_a_png_and_a_jpeg_are_known_by_their_bytes():
    assert image_type(png()) == "image/png"
    assert image_type(jpeg_header()) == "image/jpeg"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF89a\x01\x00\x01\x00",
        b"\x89PNG\r\n\x1a\n",  # a signature alone
        png()[:8] + png()[8:12] + b"tEXt" + png()[16:],  # no IHDR first
        png()[:16] + struct.pack(">II", 0, 4) + png()[24:],  # no width
        b"\xff\xd8\xff\xd9",  # a JPEG start and end, no frame
        b"\xff\xd8\xff\xe0\x00\x10JFIF",  # cut before any frame
        b"\xff\xd8" + b"\xff\xda\x00\x02" + b"\x00" * 8,  # scan data before a frame
    ],
    ids=["empty", "svg", "gif", "png-signature", "png-no-ihdr", "png-no-width", "jpeg-no-frame", "jpeg-cut",
         "jpeg-scan-first"],
)  # fmt: skip
def test_anything_else_is_not_an_image(data):
    assert image_type(data) is None
