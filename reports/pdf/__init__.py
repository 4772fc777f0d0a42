"""The interim report drawn as a PDF from its figures dict (reports/FIGURES.md), in English or Chinese."""

import io

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.platypus import CondPageBreak

from .baseline import baseline_section
from .document import canvas_maker, document_make
from .enrollment import enrollment_section
from .fonts import font_register
from .participants import participants_section
from .primary import primary_section
from .quality import quality_section
from .secondary import secondary_section
from .style import styles_make
from .title import footer_lines, title_block

LANGUAGES = ("en", "zh-hans")
SECTIONS = (
    enrollment_section,
    participants_section,
    baseline_section,
    quality_section,
    primary_section,
    secondary_section,
)


def report_render(figures: dict, *, language: str) -> bytes:
    """The PDF of the interim report of `figures` in `language` ("en" or "zh-hans").

    Pure: everything printed comes from `figures`, and the same figures give the same bytes. Sections whose
    data does not exist yet print a sentence saying so. Raises ValueError for another language.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    font = font_register()
    with translation.override(language):
        st = styles_make(language, font)
        story = title_block(figures, st)
        for section in SECTIONS:
            # A heading never sits alone at the foot of a page.
            story += [CondPageBreak(160), *section(figures, st)]
        buffer = io.BytesIO()
        name = _("Interim report")
        document = document_make(
            buffer,
            title=f"{figures['study']['code']} {name} {figures['cut']['date']}",
            author=figures["cut"]["generated_by"],
            font=font,
        )
        document.build(story, canvasmaker=canvas_maker(footer=footer_lines(figures), font=font))
    return buffer.getvalue()
