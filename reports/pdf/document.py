"""The page frame: the document template and the canvas that writes the footer on every page.

"Page n of m" needs m before any page is written, so the canvas holds each finished page's state and draws
the footers when the document is saved (the two-pass canvas of the reportlab user guide).
"""

from functools import partial

from django.utils.translation import gettext as _
from reportlab.pdfgen import canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from .style import INK, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, MUTED, PAGE, RULE, WIDTH


class FooterCanvas(canvas.Canvas):
    """A canvas that writes `footer` (two lines) and "page n of m" at the bottom of every page."""

    def __init__(self, *args, footer: tuple[str, str], font: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer, self._font, self._pages = footer, font, []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer_draw(number, total)
            super().showPage()
        super().save()

    def _footer_draw(self, number: int, total: int) -> None:
        top = MARGIN_BOTTOM - 8
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN_X, top, MARGIN_X + WIDTH, top)
        self.setFont(self._font, 7)
        self.setFillColor(INK)
        first, second = self._footer
        self.drawString(MARGIN_X, top - 10, first)
        self.drawRightString(
            MARGIN_X + WIDTH, top - 10, _("Page %(number)s of %(total)s") % {"number": number, "total": total}
        )
        self.setFillColor(MUTED)
        self.drawString(MARGIN_X, top - 20, second)
        self.restoreState()


def document_make(buffer, *, title: str, author: str, font: str) -> BaseDocTemplate:
    """An A4 document with one frame per page; invariant, so the same figures give the same bytes."""
    document = BaseDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=author,
        creator="SpineTrial",
        invariant=True,
        # Else reportlab sets Helvetica on each new page and lists it, unembedded, in the file.
        initialFontName=font,
    )
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM, id="body")
    document.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    return document


def canvas_maker(*, footer: tuple[str, str], font: str):
    """The canvas class for `document.build(..., canvasmaker=...)`."""
    return partial(FooterCanvas, footer=footer, font=font)
