"""The report's one font, WenQuanYi Micro Hei, registered with reportlab on first use.

It covers Latin, Greek and CJK (κ, ±, ≥, 中文), so one family serves both languages and a Chinese user's name
prints in an English report. It is a TrueType collection: reportlab embeds a subset of it (Noto CJK, the
pages' font, is CFF-flavoured and reportlab cannot embed it). Debian package `fonts-wqy-microhei`.
"""

import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import paragraph

FONT = "WQYMicroHei"
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

_lock = threading.Lock()


def font_register() -> str:
    """Register the font once per process (never at import: parsing the 5 MB file costs ~0.2 s); its name."""
    with _lock:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
            # One face for every weight: the family has no bold, <b> in a paragraph keeps the same face.
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
            # reportlab's CJK line breaker lets a full-width comma, colon, semicolon, ! or ? start a line,
            # which Chinese typography forbids: its list of characters that cannot start a line lacks them.
            missing = "".join(
                c for c in "\uff0c\uff1a\uff1b\uff01\uff1f" if c not in paragraph.ALL_CANNOT_START
            )
            paragraph.ALL_CANNOT_START += missing
    return FONT
