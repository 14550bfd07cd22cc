"""The shell command that redraws what the explorer shows: the ``latentatlas path`` line the page
offers under a path strip (strings only: no HTTP, no numpy)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any


def path_command(
    a: dict[str, Any],
    b: dict[str, Any],
    kind: str,
    steps: int,
    *,
    model: str,
    store: str,
    ids: Sequence[str],
) -> str | None:
    """The ``latentatlas path`` command that draws the same strip as the path from point ``a``
    to point ``b`` (checked point objects of the API), where one can: lerp/slerp between two real
    points, or a segment between two plane points of one component or principal plane with the
    same base and no moves; None otherwise. ``model`` and ``store`` name the inputs on the
    command line; ``ids``: the store's point ids, by index."""
    model, store = shlex.quote(model), shlex.quote(store)
    head = f"latentatlas path {model} {store} --out PATH --steps {steps}"

    def real(p: dict[str, Any]) -> int | None:
        plain = set(p) <= {"base"} or (set(p) <= {"base", "axes", "moves"} and not p.get("moves"))
        base = p.get("base")
        return base if plain and isinstance(base, int) and not isinstance(base, bool) else None

    ia, ib = real(a), real(b)
    if kind in ("lerp", "slerp") and ia is not None and ib is not None:
        pair = " ".join(shlex.quote(str(ids[i])) for i in (ia, ib))
        return f"{head} --kind {kind} --between {pair}"
    if kind != "lerp" or a.get("moves") or b.get("moves") or "at" not in a or "at" not in b:
        return None
    if a.get("axes") != b.get("axes") or a.get("base", "centroid") != b.get("base", "centroid"):
        return None
    kinds = {name.partition(":")[0] for name in a["axes"]}
    if len(kinds) != 1 or kinds - {"z", "pc"}:
        return None
    base = a.get("base", "centroid")
    if base != "centroid":
        if not isinstance(base, int) or isinstance(base, bool):
            return None
        base = shlex.quote(str(ids[base]))
    plane = ",".join(name.partition(":")[2] for name in a["axes"])
    frame = " --frame principal" if kinds == {"pc"} else ""
    start, end = (",".join(repr(float(v)) for v in p["at"]) for p in (a, b))
    return f"{head} --kind segment --plane {plane}{frame} --base {base} --start={start} --end={end}"
