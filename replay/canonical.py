"""Canonical JSON after RFC 8785 (JSON Canonicalization Scheme), standard library only.

- Object members are sorted by their names as arrays of UTF-16 code units (so U+1F600, stored as the surrogate pair
  D83D DE00, sorts before U+FB33), with no whitespace anywhere.
- Strings are written as themselves in UTF-8; only '"', '\\' and U+0000-U+001F are escaped, with the short forms
  \\b \\t \\n \\f \\r where they exist and \\u00xx (lowercase hex) otherwise. A lone surrogate is refused.
- Floats are written as ECMAScript's Number.prototype.toString writes them (RFC 8785 §3.2.2.3): the shortest digits
  that round-trip, plain notation for exponents -7 < e < 21, otherwise d.ddde±x. -0 is written 0; NaN and the
  infinities are refused. Integers (bool excluded) are written in full: RFC 8785 expects every number to be an
  IEEE 754 double, so an integer beyond ±2**53 is not I-JSON; ours (positions, sizes, versions) never come close.
- Only dict (str keys), list, tuple, str, int, float, bool and None are accepted: the caller converts datetimes,
  dates and UUIDs to strings first, so that no type is written in an unplanned way.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of `value` (a ValueError for what JSON or JCS cannot hold)."""
    return _text(value).encode("utf-8")


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return _object(value)
    raise ValueError(f"canonical JSON cannot hold a {type(value).__name__}: convert it to a string first")


def _object(value: dict[Any, Any]) -> str:
    if not all(isinstance(key, str) for key in value):
        raise ValueError("canonical JSON object names must be strings")
    names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
    return "{" + ",".join(_string(name) + ":" + _text(value[name]) for name in names) + "}"


def _string(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"a string holds a lone surrogate at {error.start}: it has no UTF-8 form") from None
    return json.dumps(value, ensure_ascii=False)  # escapes exactly '"', '\\' and U+0000-U+001F, as JCS asks


def number_text(value: float) -> str:
    """ECMAScript's Number::toString(value) for a finite double (ECMA-262 §6.1.6.1.20)."""
    if not math.isfinite(value):
        raise ValueError(f"canonical JSON cannot hold {value}")
    if value == 0:
        return "0"
    _, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    text, k = "".join(map(str, digits)), len(digits)
    n = k + int(exponent)  # the value is 0.<text> × 10**n
    return ("-" if value < 0 else "") + _place_point(text, k, n)


def _place_point(text: str, k: int, n: int) -> str:
    if k <= n <= 21:
        return text + "0" * (n - k)
    if 0 < n <= 21:
        return text[:n] + "." + text[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + text
    mantissa = text if k == 1 else text[0] + "." + text[1:]
    return f"{mantissa}e{'+' if n > 0 else '-'}{abs(n - 1)}"
