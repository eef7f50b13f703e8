"""Name normalisation of SPEC.md section 8, in Python and as DuckDB functions.

The SPEC normalises names by NFKC, lower case, and removing whitespace, punctuation and symbols;
group names also lose digits. DuckDB has `nfc_normalize` but no NFKC (full-width letters and digits
such as "ＡＢＣ１" would stay apart from "abc1"), so the rule SQL calls Python functions registered on
the connection. They take Arrow batches and are cached, because the same handful of form names,
topics and data items repeat across thousands of units: each distinct string is normalised once.

What "removing whitespace, punctuation and symbols" means here, exactly:
- after NFKC and `str.lower()`, drop every character whose Unicode category is P* (punctuation),
  S* (symbols), Z* (separators, i.e. spaces), and C* (control and invisible format characters
  such as tab, newline, zero-width space — whitespace a clerk cannot see — and unassigned or
  private-use code points, which no name should depend on). This is also how the independent
  oracle of the tests reads the SPEC;
- for group names also drop decimal digits (category Nd; NFKC has already turned full-width and
  circled digits into ASCII ones). Chinese numerals (一, 二) are letters and stay.

The tests check them against an independent oracle, which reads the same paragraph of the SPEC
on its own.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.sqltypes import VARCHAR

_DROP = ("P", "S", "Z", "C")


def _keep(ch: str, drop_digits: bool) -> bool:
    cat = unicodedata.category(ch)
    if cat[0] in _DROP or ch.isspace():
        return False
    return not (drop_digits and cat == "Nd")


class _Dropping(dict):
    """A `str.translate` table deleting the characters `_keep` drops.

    Each code point is decided by `_keep` once, the first time it is seen, so normalising a name
    is one pass in C rather than a Python call per character (the cost grows with the rows).
    """

    def __init__(self, drop_digits: bool):
        super().__init__()
        self.drop_digits = drop_digits

    def __missing__(self, code: int) -> int | None:
        self[code] = value = code if _keep(chr(code), self.drop_digits) else None
        return value


_NAME_TABLE = _Dropping(drop_digits=False)
_GROUP_NAME_TABLE = _Dropping(drop_digits=True)


@lru_cache(maxsize=200_000)
def norm_name(text: str) -> str:
    """Normalised form name, topic or data item: NFKC, lower, no whitespace/punctuation/symbols."""
    return unicodedata.normalize("NFKC", text).lower().translate(_NAME_TABLE)


@lru_cache(maxsize=200_000)
def norm_group_name(text: str) -> str:
    """Normalised group name: as `norm_name`, and digits removed ("1群" and "2群" are one name)."""
    return unicodedata.normalize("NFKC", text).lower().translate(_GROUP_NAME_TABLE)


@lru_cache(maxsize=50_000)
def nfkc_code(text: str) -> str:
    """A code typed by a clerk (a dept_code in joint_depts): NFKC, trimmed, upper case.

    Full-width "４２１１２７－ＡＧＲＩ" from a Chinese input method is the code 421127-AGRI.
    """
    return unicodedata.normalize("NFKC", text).strip().upper()


def _vectorised(fn):
    """An Arrow UDF applying `fn` to each distinct value of the batch DuckDB hands over (nulls
    stay null): a name repeated across thousands of units is normalised once per batch, and `fn`'s
    cache serves it in the batches after.
    """

    def apply(values: pa.Array | pa.ChunkedArray) -> pa.Array:
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        normalised = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
        return normalised.take(encoded.indices)

    apply.__name__ = fn.__name__
    return apply


#: SQL name -> Python function. The SQL files use these names.
SQL_FUNCTIONS = {
    "norm_name": norm_name,
    "norm_group_name": norm_group_name,
    "nfkc_code": nfkc_code,
}


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the normalisers on `con` (once per connection; later calls do nothing)."""
    for name, fn in SQL_FUNCTIONS.items():
        try:
            con.create_function(
                name,
                _vectorised(fn),
                [VARCHAR],
                VARCHAR,
                type="arrow",
                side_effects=False,
            )
        except duckdb.NotImplementedException as exc:
            if "already created" not in str(exc):
                raise
