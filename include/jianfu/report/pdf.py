"""The bulletin as a PDF: the HTML page printed by WeasyPrint, with a CJK font embedded.

WeasyPrint (HTML + CSS through pango) rather than typst: the PDF is then the very page the `html`
format writes, so the two cannot drift apart, and the charts' SVG goes in as vector graphics
without a second layout language. Pango finds fonts through fontconfig; a machine with no CJK font
would print empty boxes, so that is refused up front with the Debian package to install.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from ..config import JianfuError


class FontMissing(JianfuError):
    """No font on this machine can print Chinese."""


def cjk_fonts() -> list[str]:
    """Families fontconfig knows that cover Chinese (empty when none, or fontconfig is absent)."""
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30,
                               check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({line.split(",")[0].strip() for line in found.splitlines() if line.strip()})


def write_pdf(html: str, out: Path) -> Path:
    if not cjk_fonts():
        raise FontMissing("no Chinese font is installed, so the PDF cannot show Chinese: install the Debian "
                          "package fonts-noto-cjk (apt-get install fonts-noto-cjk) / 未安装中文字体，"
                          "请安装 fonts-noto-cjk")
    # WeasyPrint narrates every step (its own style sheets on import, then each page) at INFO; a
    # task log or terminal wants the result only.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    from weasyprint import HTML  # imported here: only the PDF format needs pango

    HTML(string=html).write_pdf(out)
    return out
