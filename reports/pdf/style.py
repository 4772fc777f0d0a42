"""The report's paragraph and table styles for one language, and the page geometry."""

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, TableStyle

from .fmt import esc

PAGE = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 16 * mm
# Room for the two footer lines.
MARGIN_BOTTOM = 22 * mm
WIDTH = PAGE[0] - 2 * MARGIN_X

INK = colors.HexColor("#1f2933")
ACCENT = colors.HexColor("#1d4e89")
MUTED = colors.HexColor("#5f6b7a")
RULE = colors.HexColor("#c5ccd6")
HEADER_FILL = colors.HexColor("#e8edf3")
TOTAL_FILL = colors.HexColor("#f3f5f8")


@dataclass(frozen=True)
class Styles:
    """The styles of one rendering; `language` decides the line breaking (CJK text breaks between any two
    characters, Latin text at spaces)."""

    language: str
    font: str
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading_style: ParagraphStyle
    subheading: ParagraphStyle
    body: ParagraphStyle
    note: ParagraphStyle
    empty: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    cell_head: ParagraphStyle

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of plain text (escaped)."""
        return Paragraph(esc(text), style or self.body)

    def heading(self, number: int, text: str) -> Paragraph:
        """A section heading: "1. Enrollment"."""
        return Paragraph(esc(f"{number}. {text}"), self.heading_style)

    def none(self, text: str) -> Paragraph:
        """The sentence a section prints where its data does not exist yet."""
        return Paragraph(esc(text), self.empty)

    def cell_p(self, text: str, *, indent: bool = False) -> Paragraph:
        """A table cell that wraps (names and labels)."""
        style = self.cell if not indent else ParagraphStyle("indent", parent=self.cell, leftIndent=8)
        return Paragraph(esc(text), style)

    def table(self, *, header_rows: int = 1, total_row: bool = False) -> list:
        """The common table commands: the font, rules, a shaded header and total, numbers right-aligned."""
        commands = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("LEADING", (0, 0), (-1, -1), 9.5),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("ALIGN", (1, 0), (-1, header_rows - 1), "CENTER"),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL),
            ("LINEABOVE", (0, 0), (-1, 0), 0.8, INK),
            ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.5, INK),
            ("LINEBELOW", (0, -1), (-1, -1), 0.8, INK),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if total_row:
            commands += [
                ("BACKGROUND", (0, -1), (-1, -1), TOTAL_FILL),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, RULE),
            ]
        return commands


def styles_make(language: str, font: str) -> Styles:
    """The styles for `language` in `font`."""
    wrap = "CJK" if language.startswith("zh") else None
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13.5, textColor=INK, wordWrap=wrap)
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5)
    return Styles(
        language=language,
        font=font,
        title=ParagraphStyle("title", parent=base, fontSize=17, leading=22, textColor=ACCENT, spaceAfter=4),
        subtitle=ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=14, textColor=MUTED),
        heading_style=ParagraphStyle(
            "heading",
            parent=base,
            fontSize=13.5,
            leading=18,
            textColor=ACCENT,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=1,
        ),
        subheading=ParagraphStyle(
            "subheading",
            parent=base,
            fontSize=10.5,
            leading=14,
            textColor=INK,
            spaceBefore=7,
            spaceAfter=3,
            keepWithNext=1,
        ),
        body=ParagraphStyle("body", parent=base, spaceAfter=4),
        empty=ParagraphStyle(
            "empty", parent=base, textColor=MUTED, spaceAfter=4, leftIndent=8, borderPadding=0
        ),
        note=ParagraphStyle("note", parent=base, fontSize=7.5, leading=10, textColor=MUTED, spaceBefore=2),
        cell=cell,
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_head=ParagraphStyle("cell_head", parent=cell, alignment=TA_CENTER, fontSize=7, leading=8.5),
    )


def table_style(commands: list) -> TableStyle:
    """A TableStyle from a list of commands."""
    return TableStyle(commands)
