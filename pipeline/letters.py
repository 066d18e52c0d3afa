"""Where a letter is laid out: one A4 letter per housing with an owner (fpdf2).

Positions are in millimetres from the top-left corner of the page. The
recipient block sits where a French DL/C5 window envelope shows it (about
100-190 mm from the left, 45-90 mm from the top).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from .models import CampaignBundle, FileRef, Housing
from .rich_text import Block, parse_body
from .variables import replace_variables, unknown_variables

log = logging.getLogger(__name__)

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf", "BI": "DejaVuSans-BoldOblique.ttf"}
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]

MARGIN = 20
PAGE_WIDTH = 210
WINDOW_X, WINDOW_Y, WINDOW_WIDTH = 110, 50, 80
BODY_TOP = 100
LINE = 5.2


def french_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def font_dir() -> Path:
    return Path(str(resources.files("pipeline") / "fonts"))


@dataclass
class LetterTemplate:
    """What every letter of a campaign shares: parsed once per job, not per letter."""

    bundle: CampaignBundle
    blocks: list[Block]
    images: dict[str, bytes] = field(default_factory=dict)  # FileRef.id -> image bytes
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, bundle: CampaignBundle, images: dict[str, bytes] | None = None) -> "LetterTemplate":
        warnings = []
        unknown = unknown_variables(bundle.draft.body) | unknown_variables(bundle.draft.subject)
        if unknown:
            warnings.append("unknown variables left out of the letter: " + ", ".join(sorted("{{%s}}" % v for v in unknown)))
        return cls(bundle=bundle, blocks=parse_body(bundle.draft.body), images=images or {}, warnings=warnings)


class LetterPDF(FPDF):
    def __init__(self):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=25)
        for style, name in FONT_FILES.items():
            self.add_font(FONT, style, str(font_dir() / name))
        self.set_font(FONT, size=10)
        self.set_creator("campaign-mail")


def render_letters(template: LetterTemplate, housings: list[Housing], out: Path | io.BytesIO) -> int:
    """Write one letter per housing (all must have an owner) into one PDF; returns its page count."""
    pdf = LetterPDF()
    pdf.set_title(template.bundle.campaign.title)
    for housing in housings:
        _letter(pdf, template, housing)
    pdf.output(out)
    return pdf.page


def _letter(pdf: LetterPDF, template: LetterTemplate, housing: Housing):
    draft = template.bundle.draft
    owner = housing.owner
    assert owner is not None, "letters are only written for housings with an owner"
    pdf.add_page()

    _logos(pdf, template, draft.logo)
    _sender(pdf, draft)

    pdf.set_xy(WINDOW_X, WINDOW_Y)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(WINDOW_WIDTH, LINE, "À l'attention de", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(WINDOW_X)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(WINDOW_WIDTH, LINE, owner.full_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for line in owner.postal_lines():
        pdf.set_x(WINDOW_X)
        pdf.multi_cell(WINDOW_WIDTH, LINE, line, new_x="LMARGIN", new_y="NEXT")

    pdf.set_xy(MARGIN, max(pdf.get_y() + 8, BODY_TOP))
    if draft.written_from or draft.written_at:
        place = f"À {draft.written_from}, " if draft.written_from else ""
        when = f"le {french_date(draft.written_at)}" if draft.written_at else ""
        pdf.cell(0, LINE, (place + when).strip(" ,"), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(LINE)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, LINE, "Objet : " + replace_variables(draft.subject, housing, owner), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(LINE)

    for block in template.blocks:
        _block(pdf, block, housing)

    _signatories(pdf, template)


def _block(pdf: LetterPDF, block: Block, housing: Housing):
    indent = 6 * (block.depth + 1) if block.kind == "li" else 0
    size = 11 if block.kind == "h" else 10
    pdf.set_left_margin(MARGIN + indent)
    pdf.set_x(MARGIN + indent)
    if block.prefix:
        pdf.set_font(FONT, "", size)
        pdf.set_x(MARGIN + indent - 5)
        pdf.cell(5, LINE, block.prefix)
    for run in block.runs:
        style = run.style + ("B" if block.kind == "h" and "B" not in run.style else "")
        pdf.set_font(FONT, style, size)
        pdf.write(LINE, replace_variables(run.text, housing, housing.owner))
    pdf.set_left_margin(MARGIN)
    pdf.ln(LINE)
    pdf.ln(1.5 if block.kind == "li" else LINE * 0.6)


def _sender(pdf: LetterPDF, draft):
    sender = draft.sender
    if sender is None:
        return
    lines = [
        (sender.name, "B"),
        (sender.service, ""),
        (" ".join(p for p in (sender.first_name, sender.last_name) if p), ""),
        (sender.address, ""),
        (sender.email, ""),
        (sender.phone, ""),
    ]
    pdf.set_xy(WINDOW_X, MARGIN)
    for text, style in lines:
        if text:
            pdf.set_font(FONT, style, 9)
            pdf.set_x(WINDOW_X)
            pdf.multi_cell(WINDOW_WIDTH, 4.5, text, new_x="LMARGIN", new_y="NEXT")


def _logos(pdf: LetterPDF, template: LetterTemplate, logos: list[FileRef]):
    y = MARGIN - 5
    for logo in logos[:2]:
        data = template.images.get(logo.id)
        if data is None:
            continue
        info = pdf.image(io.BytesIO(data), x=MARGIN, y=y, h=12, keep_aspect_ratio=True, w=60)
        y += (info.rendered_height if info else 12) + 2


def _signatories(pdf: LetterPDF, template: LetterTemplate):
    sender = template.bundle.draft.sender
    signatories = (sender.signatories if sender else [])[:2]
    if not signatories:
        return
    height = 30
    if pdf.get_y() + height > pdf.h - 25:
        pdf.add_page()
    top = max(pdf.get_y() + 4, pdf.h - 25 - height)
    width = 55
    for index, signatory in enumerate(reversed(signatories)):
        x = PAGE_WIDTH - MARGIN - width * (index + 1)
        pdf.set_xy(x, top)
        pdf.set_font(FONT, "B", 9)
        name = " ".join(p for p in (signatory.first_name, signatory.last_name) if p)
        pdf.multi_cell(width - 3, 4.5, name, new_x="LEFT", new_y="NEXT")
        if signatory.role:
            pdf.set_font(FONT, "", 9)
            pdf.multi_cell(width - 3, 4.5, signatory.role, new_x="LEFT", new_y="NEXT")
        data = template.images.get(signatory.file.id) if signatory.file else None
        if data is not None:
            pdf.image(io.BytesIO(data), x=x, y=pdf.get_y() + 1, h=15, w=width - 5, keep_aspect_ratio=True)
