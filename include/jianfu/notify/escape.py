"""County text made inert for the medium that shows it (SPEC.md section 9).

A county writes topics, names and reasons; a robot renders Markdown and an e-mail client HTML. A
topic like `[点此](http://x)` or `![](http://x/img)` must show as typed, never become a live link
or a remote image in the office's group chat.
"""

from __future__ import annotations

import html
import re

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
