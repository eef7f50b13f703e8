"""The console's scripts and style sheet, all served from the package (SPEC.md section 16: no internet).

The Vega, Vega-Lite and Vega-Embed libraries come from vl-convert-python, which ships them for its
own offline rendering (`vl_convert.javascript_bundle()`): one script, built once per process, of
the very versions that render the bulletin's SVG, so the page and the PDF draw a chart alike.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".svg": "image/svg+xml"}
VEGA_BUNDLE = "vega-bundle.js"


@cache
def _vega_bundle() -> bytes:
    import vl_convert as vlc  # imported here: only the first page with a chart needs it

    return vlc.javascript_bundle().encode("utf-8")


def get(name: str) -> tuple[bytes, str] | None:
    """(content, media type) of a static asset, or None when there is no such asset."""
    if name == VEGA_BUNDLE:
        return _vega_bundle(), _TYPES[".js"]
    path = STATIC / name
    # Only files directly in static/: a name with a separator or `..` names nothing.
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file() or path.suffix not in _TYPES:
        return None
    return path.read_bytes(), _TYPES[path.suffix]
