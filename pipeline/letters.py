"""Where a letter is laid out: one A4 letter per housing with an owner (fpdf2).

Positions are in millimetres from the page's top-left corner. The page is cut
into fixed zones so that no block can run into another:

    logos (top left)          sender block (top right)       y 12-44
                              recipient block                y 48-88, x 108-188
                              (the window of a DL/C5 envelope: x 100-190, y 45-90)
    place and date, subject, body ... (flows onto more pages)
                                    signatories (bottom right of the last page)
    "1/2" page labels at the bottom right of a letter that has several pages
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF

from .models import CampaignBundle, FileRef, Housing
from .rich_text import Block, parse_body
from .variables import replace_variables, unknown_variables

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf", "BI": "DejaVuSans-BoldOblique.ttf"}
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]

PAGE_WIDTH, PAGE_HEIGHT = 210, 297
MARGIN = 20
BOTTOM = 20  # body text stops this far from the bottom edge; page labels sit inside it

HEADER_TOP, HEADER_BOTTOM = 12, 44
LOGO_WIDTH, LOGO_HEIGHT, LOGO_GAP = 60, 14, 3
SENDER_X, SENDER_WIDTH = 110, 80

WINDOW = (108, 48, 80, 40)  # x, y, width, height of the recipient block
BODY_TOP = 96
LINE = 5.0  # body line height at 10 pt

SIGNATORY_WIDTH, SIGNATURE_HEIGHT = 50, 18
REPLACEMENT = "\ufffd"  # printed for a character the font lacks


def french_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def font_dir() -> Path:
    return Path(str(resources.files("pipeline") / "fonts"))


@lru_cache(maxsize=1)
def printable() -> frozenset[int]:
    """Code points every face of the font can print."""
    faces = [set(TTFont(font_dir() / name, lazy=True).getBestCmap()) for name in FONT_FILES.values()]
    return frozenset(set.intersection(*faces))


def glyph_safe(text: str) -> str:
    """Replace what the font cannot print by a visible mark, instead of dropping it silently."""
    cmap = printable()
    if all(ord(char) in cmap or char == "\n" for char in text):
        return text
    return "".join(char if ord(char) in cmap or char == "\n" else REPLACEMENT for char in text)


@dataclass
class LetterTemplate:
    """What every letter of a campaign shares: parsed once per job, not per letter."""

    bundle: CampaignBundle
    blocks: list[Block]
    images: dict[str, bytes] = field(default_factory=dict)  # FileRef.id -> checked image bytes
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, bundle: CampaignBundle, images: dict[str, bytes] | None = None) -> "LetterTemplate":
        warnings = []
        unknown = unknown_variables(bundle.draft.body) | unknown_variables(bundle.draft.subject)
        if unknown:
            names = ", ".join(sorted("{{%s}}" % name for name in unknown))
            warnings.append(f"unknown variables left out of the letters: {names}")
        return cls(bundle=bundle, blocks=parse_body(bundle.draft.body), images=images or {}, warnings=warnings)


class LetterPDF(FPDF):
    def __init__(self):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=BOTTOM + 5)
        for style, name in FONT_FILES.items():
            self.add_font(FONT, style, str(font_dir() / name))
        self.set_font(FONT, size=10)
        self.set_creator("campaign-mail")
        self.replaced = 0

    def normalize_text(self, text: str) -> str:
        safe = glyph_safe(text)
        if safe is not text:
            self.replaced += sum(1 for a, b in zip(text, safe) if a != b)
        return super().normalize_text(safe)


def render_letters(
    template: LetterTemplate,
    housings: list[Housing],
    out: Path | io.BytesIO,
    on_progress: Callable[[int], None] | None = None,
    every: int = 25,
) -> int:
    """Write one letter per housing (each must have an owner) into one PDF; returns its page count.

    `on_progress(letters done)` is called every `every` letters.
    """
    pdf = LetterPDF()
    pdf.set_title(glyph_safe(template.bundle.campaign.title))
    for done, housing in enumerate(housings, start=1):
        _letter(pdf, template, housing)
        if on_progress and done % every == 0 and done < len(housings):
            on_progress(done)
    if pdf.replaced:
        template.warnings.append(f"{pdf.replaced} character(s) the font cannot print were replaced by {REPLACEMENT}")
    pdf.output(out)
    return pdf.page


def _letter(pdf: LetterPDF, template: LetterTemplate, housing: Housing):
    draft = template.bundle.draft
    owner = housing.owner
    if owner is None:
        raise ValueError("letters are only written for housings with an owner")
    pdf.add_page()
    first = pdf.page

    _logos(pdf, template, draft.logo)
    _sender(pdf, draft.sender)
    _recipient(pdf, owner.full_name, owner.postal_lines())

    pdf.set_xy(MARGIN, BODY_TOP)
    pdf.set_font(FONT, "", 10)
    if draft.written_from or draft.written_at:
        place = f"À {draft.written_from}, " if draft.written_from else ""
        when = f"le {french_date(draft.written_at)}" if draft.written_at else ""
        pdf.multi_cell(0, LINE, (place + when).strip(" ,"), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(LINE)
    subject = replace_variables(draft.subject, housing, owner).strip()
    if subject:
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(0, LINE, f"Objet : {subject}", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(LINE)

    previous = None
    for block in template.blocks:
        if previous == "li" and block.kind != "li":
            pdf.ln(LINE * 0.6)  # a list ends like a paragraph does
        _block(pdf, block, housing)
        previous = block.kind

    _signatories(pdf, template)
    if pdf.page > first:
        _page_labels(pdf, first, pdf.page)


def _block(pdf: LetterPDF, block: Block, housing: Housing):
    size = 11 if block.kind == "h" else 10
    indent = 6 * (block.depth + 1) if block.kind == "li" else 0
    if block.kind == "h":
        pdf.ln(1)
    # A line needs room: start a heading or a paragraph on the next page rather than orphan it.
    if pdf.get_y() + LINE * (2 if block.kind == "h" else 1) > PAGE_HEIGHT - BOTTOM - 5:
        pdf.add_page()
    pdf.set_left_margin(MARGIN + indent)
    pdf.set_x(MARGIN + indent)
    if block.prefix:
        pdf.set_font(FONT, "", size)
        pdf.set_x(MARGIN + indent - 5.5)
        pdf.cell(5.5, LINE, block.prefix)
    for run in block.runs:
        style = "".join(sorted(set(run.style + ("B" if block.kind == "h" else ""))))
        pdf.set_font(FONT, style, size)  # fpdf2 reads "U" in a style as underline
        pdf.write(LINE, replace_variables(run.text, housing, housing.owner))
    pdf.set_font(FONT, "", size)
    pdf.set_left_margin(MARGIN)
    pdf.ln(LINE)
    pdf.ln(1.2 if block.kind == "li" else LINE * 0.6)


def _fit(pdf: LetterPDF, lines: list[tuple[str, str, float]], width: float, height: float) -> tuple[float, list[list[str]]]:
    """Shrink a block's type until its wrapped lines fit its zone; returns (scale, wrapped lines)."""
    scale = 1.0
    while True:
        wrapped = []
        for text, style, size in lines:
            pdf.set_font(FONT, style, size * scale)
            wrapped.append(pdf.multi_cell(width, size * scale * 0.45, text, dry_run=True, output="LINES"))
        total = sum(len(parts) * size * scale * 0.45 for parts, (_, _, size) in zip(wrapped, lines))
        if total <= height or scale <= 0.6:
            return scale, wrapped
        scale -= 0.05


def _write_fitted(pdf: LetterPDF, x: float, y: float, width: float, height: float, lines: list[tuple[str, str, float]]):
    lines = [(text, style, size) for text, style, size in lines if text and text.strip()]
    scale, wrapped = _fit(pdf, lines, width, height)
    pdf.set_xy(x, y)
    bottom = y + height
    for parts, (_, style, size) in zip(wrapped, lines):
        line_height = size * scale * 0.45
        pdf.set_font(FONT, style, size * scale)
        for part in parts:
            if pdf.get_y() + line_height > bottom + 0.01:
                return  # only reached at the smallest type: cut rather than overlap the next zone
            pdf.set_x(x)
            pdf.cell(width, line_height, part, new_x="LMARGIN", new_y="NEXT")


def _sender(pdf: LetterPDF, sender):
    if sender is None:
        return
    lines = [
        (sender.name, "B", 9.5),
        (sender.service, "", 9),
        (" ".join(p for p in (sender.first_name, sender.last_name) if p), "", 9),
        (sender.address, "", 9),
        (sender.email, "", 9),
        (sender.phone, "", 9),
    ]
    _write_fitted(pdf, SENDER_X, HEADER_TOP, SENDER_WIDTH, HEADER_BOTTOM - HEADER_TOP, lines)


def _recipient(pdf: LetterPDF, full_name: str, address: list[str]):
    x, y, width, height = WINDOW
    lines = [("À l'attention de", "", 9.5), (full_name, "B", 11)] + [(line, "", 10.5) for line in address]
    _write_fitted(pdf, x, y, width, height, lines)


def _logos(pdf: LetterPDF, template: LetterTemplate, logos: list[FileRef]):
    y = HEADER_TOP
    for logo in logos[:2]:
        data = template.images.get(logo.id)
        if data is None:
            continue
        # Same bytes, same image object: fpdf2 embeds a logo once per PDF, however many pages show it.
        pdf.image(io.BytesIO(data), x=MARGIN, y=y, w=LOGO_WIDTH, h=LOGO_HEIGHT, keep_aspect_ratio=True)
        y += LOGO_HEIGHT + LOGO_GAP


def _signatories(pdf: LetterPDF, template: LetterTemplate):
    sender = template.bundle.draft.sender
    signatories = (sender.signatories if sender else [])[:2]
    if not signatories:
        return
    height = 4.5 + 2 * 4 + SIGNATURE_HEIGHT + 2
    limit = PAGE_HEIGHT - BOTTOM - 2
    if pdf.get_y() + 6 + height > limit:
        pdf.add_page()
    top = max(pdf.get_y() + 6, limit - height)
    right = PAGE_WIDTH - MARGIN
    for index, signatory in enumerate(signatories):
        # The first signatory on the left of the pair, both flush with the right margin.
        x = right - SIGNATORY_WIDTH * (len(signatories) - index)
        name = " ".join(p for p in (signatory.first_name, signatory.last_name) if p)
        _write_fitted(pdf, x, top, SIGNATORY_WIDTH - 4, 4.5 + 2 * 4, [(name, "B", 9), (signatory.role, "", 8.5)])
        data = template.images.get(signatory.file.id) if signatory.file else None
        if data is not None:
            pdf.image(io.BytesIO(data), x=x, y=top + 4.5 + 2 * 4 + 1, w=SIGNATORY_WIDTH - 8, h=SIGNATURE_HEIGHT, keep_aspect_ratio=True)


def _page_labels(pdf: LetterPDF, first: int, last: int):
    pdf.set_auto_page_break(False)
    pdf.set_font(FONT, "", 8)
    total = last - first + 1
    for page in range(first, last + 1):
        pdf.page = page
        pdf.set_xy(PAGE_WIDTH - MARGIN - 20, PAGE_HEIGHT - 12)
        pdf.cell(20, 4, f"{page - first + 1}/{total}", align="R")
    pdf.page = last
    pdf.set_auto_page_break(True, margin=BOTTOM + 5)
