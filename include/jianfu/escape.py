"""County text made harmless for where it is shown (SPEC.md sections 6.3 and 9: escape for the medium).

A robot renders Markdown and an e-mail client HTML: a topic like `[点此](http://x)` or
`![](http://x/img)` must show as typed, never become a live link or a remote image in the office's
group chat. A spreadsheet runs a cell that starts with = + - @ (or a tab, CR or LF before one) as a formula:
`=HYPERLINK(...)` from a county file would become a live link in the office's Excel. Every CSV or
XLSX jianfu writes passes text cells through `neutralise_formula`.
"""

from __future__ import annotations

import html
import re

#: Leading characters a spreadsheet may read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise_formula(value: object) -> object:
    """A text cell made inert in a spreadsheet: a leading formula character gets a quote mark."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


#: Characters that make emphasis, code, links, images, headings, tables or HTML in robot Markdown.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!|<>])")
_UNESCAPE = re.compile(r"\\([\\`*_\[\]()#!|<>])")


def markdown(text: object) -> str:
    """Text for a robot's Markdown: one line, every Markdown character escaped, no autolinks."""
    flat = " ".join(str(text).split())
    # `://` broken by a zero-width space: robots turn bare URLs into links even when escaped.
    return _MD_SPECIAL.sub(r"\\\1", flat).replace("://", ":\u200b//")


def plain_from_markdown(text: str) -> str:
    """The words of a Markdown message, for a robot that shows text as typed (Feishu `post`)."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^#{1,6}\s*", "", line).replace("**", "").replace("`", "")
        lines.append(_UNESCAPE.sub(r"\1", line))
    return "\n".join(lines)


def html_text(text: object) -> str:
    """Text for HTML: markup characters and quotes escaped."""
    return html.escape(str(text), quote=True)
