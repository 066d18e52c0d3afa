"""The letter body: HTML from a rich-text editor, reduced to blocks of styled text.

Only what a letter needs survives: paragraphs, line breaks, bold, italic,
underline, bulleted and numbered lists, headings, links (as their text).
Scripts, styles, frames, images, unknown tags and every attribute are dropped
without breaking the text around them. The body is parsed once per job and
the variables are filled per letter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

_DROPPED = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math", "head", "title"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"}
_STYLES = {"b": "B", "strong": "B", "i": "I", "em": "I", "u": "U", "ins": "U"}
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "source", "area", "col", "embed", "param", "track"}


@dataclass
class Run:
    text: str
    style: str = ""  # any of "B", "I", "U"


@dataclass
class Block:
    kind: str = "p"  # "p", "h" (heading) or "li"
    runs: list[Run] = field(default_factory=list)
    prefix: str = ""  # "•" or "3." for list items
    depth: int = 0  # list nesting

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


class _BodyParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.current: Block | None = None
        self.styles: list[str] = []
        self.lists: list[list] = []  # [kind, counter]
        self.dropping = 0

    def _block(self, kind: str = "p", prefix: str = "") -> Block:
        self._close()
        self.current = Block(kind=kind, prefix=prefix, depth=max(len(self.lists) - 1, 0))
        return self.current

    def _close(self):
        if self.current is not None:
            _trim(self.current)
            if self.current.runs or self.current.prefix:
                self.blocks.append(self.current)
        self.current = None

    def handle_starttag(self, tag, attrs):
        if tag in _DROPPED:
            self.dropping += 1
            return
        if self.dropping:
            return
        if tag in _STYLES:
            self.styles.append(_STYLES[tag])
        elif tag in ("ul", "ol"):
            self._close()
            self.lists.append([tag, 0])
        elif tag == "li":
            prefix = "•"
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                prefix = f"{self.lists[-1][1]}."
            self._block("li", prefix)
        elif tag in _BLOCKS:
            # A <p> inside an <li> belongs to the item, not to a new block.
            if not (tag in ("p", "div") and self.current is not None and self.current.kind == "li" and not self.current.runs):
                self._block("h" if tag[0] == "h" and tag[1:].isdigit() else "p")
        elif tag == "br":
            self._text("\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br" and not self.dropping:
            self._text("\n")

    def handle_endtag(self, tag):
        if tag in _DROPPED:
            self.dropping = max(self.dropping - 1, 0)
            return
        if self.dropping or tag in _VOID:
            return
        if tag in _STYLES and _STYLES[tag] in self.styles:
            # Remove the innermost matching style, even if tags were mis-nested.
            index = len(self.styles) - 1 - self.styles[::-1].index(_STYLES[tag])
            del self.styles[index]
        elif tag in ("ul", "ol"):
            self._close()
            if self.lists:
                self.lists.pop()
        elif tag in _BLOCKS:
            self._close()

    def handle_data(self, data):
        if self.dropping:
            return
        text = " ".join(data.replace("\xa0", "\0").split())
        if data[:1].isspace():
            text = " " + text
        if data[-1:].isspace() and text.strip():
            text = text + " "
        self._text(text.replace("\0", "\xa0"))

    def _text(self, text: str):
        if not text:
            return
        block = self.current or self._block()
        style = "".join(sorted(set(self.styles)))
        if block.runs and block.runs[-1].style == style:
            block.runs[-1].text += text
        else:
            block.runs.append(Run(text, style))


def _trim(block: Block):
    # Collapse the blanks HTML source puts at block edges and around line breaks.
    while block.runs and not block.runs[0].text.strip(" "):
        block.runs.pop(0)
    while block.runs and not block.runs[-1].text.strip(" \n"):
        block.runs.pop()
    if block.runs:
        block.runs[0].text = block.runs[0].text.lstrip(" ")
        block.runs[-1].text = block.runs[-1].text.rstrip(" \n")
    for run in block.runs:
        run.text = run.text.replace(" \n", "\n").replace("\n ", "\n")


def parse_body(html: str) -> list[Block]:
    parser = _BodyParser()
    parser.feed(unescape(html) if "<" not in (html or "") else (html or ""))
    parser.close()
    parser._close()
    return parser.blocks


def body_text(blocks: list[Block]) -> str:
    return "\n".join((block.prefix + " " if block.prefix else "") + block.text for block in blocks)
