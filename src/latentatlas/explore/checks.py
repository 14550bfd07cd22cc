"""Strict parsing of what the explorer's clients send (no HTTP here): integers spelled in ASCII
digits only (``str.isdigit`` also accepts "²" and "١٢", which ``int`` refuses or reads), and JSON
whose nesting is measured before it is parsed (a C parser would recurse 100,000 levels deep)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

MAX_DEPTH = 32  # nesting of a request body: the API's deepest is 5 ({"points": [{"moves": ...)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def parse_int(text: str, max_digits: int = 18, signed: bool = True) -> int | None:
    """The integer ``text`` spells (a ``-`` if ``signed``, then 1..max_digits ASCII digits,
    nothing else), or None."""
    digits = text[1:] if signed and text.startswith("-") else text
    if not (0 < len(digits) <= max_digits and digits.isascii() and digits.isdigit()):
        return None
    return int(text)


def json_depth(raw: bytes) -> int:
    """How deeply the JSON text ``raw`` nests arrays and objects (brackets inside strings do not
    count), without parsing it."""
    bare = np.frombuffer(_STRING.sub(b"", raw), np.uint8)
    if not len(bare):
        return 0
    step = np.isin(bare, _OPEN).astype(np.int64) - np.isin(bare, _CLOSE)
    return int(np.cumsum(step).max())


def load_json(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The value of the JSON text ``raw``; ValueError (one line) if it is not JSON or nests
    deeper than ``max_depth``."""
    depth = json_depth(raw)
    if depth > max_depth:
        raise ValueError(f"the request body nests {depth} levels deep (at most {max_depth})")
    try:
        return json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        raise ValueError("the request body must be JSON") from None
