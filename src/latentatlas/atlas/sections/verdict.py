"""Section 11 (optional): the generators' verdict, read from ``latentatlas compare --out DIR``.

The atlas computes none of it: it shows the numbers of ``DIR/verdict.json`` next to its own and
links to ``DIR/index.html`` (with the decoded image grids) by a relative path, so the two reports
can be moved together.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from latentatlas.atlas.context import AtlasContext
from latentatlas.verdict.catalogue import METRICS, lookup
from latentatlas.verdict.page import COLUMNS, add_verdict_table
from latentatlas.verdict.ranking import rank_verdict

if TYPE_CHECKING:
    from latentatlas.core.html import Page

VERDICT_FILE = "verdict.json"
_TEXT = ("generator", "class")
_COUNTS = ("n",)


def load_verdict(path: str | os.PathLike) -> tuple[dict[str, Any], Path]:
    """Read and check ``path/verdict.json`` (``path`` may also name the file itself).

    Returns the verdict reduced to what the page shows (non-finite numbers as None) and the
    verdict's directory. Raises ValueError (one line) when the file is missing or malformed.
    """
    path = Path(path)
    file = path if path.suffix == ".json" else path / VERDICT_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no {file}: write it with `latentatlas compare ... --out DIR`") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {file}: {getattr(e, 'strerror', None) or e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{file} is not valid JSON (line {e.lineno}: {e.msg})") from None
    try:
        return _checked(data), file.parent
    except _Bad as e:
        raise ValueError(f"bad verdict {file}: {e}") from None


class _Bad(Exception):
    pass


def _checked(data: Any) -> dict[str, Any]:
    top = _dict(data, "the file")
    detector = _dict(_get(top, "detector", "the file"), "detector")
    rows = _get(top, "rows", "the file")
    if not isinstance(rows, list):
        raise _Bad("rows must be a list")
    notes = top.get("disagreements", [])
    if not isinstance(notes, list) or not all(isinstance(x, str) for x in notes):
        raise _Bad("disagreements must be a list of strings")
    params = detector.get("params", {})
    return {
        **{k: _count(_get(top, k, "the file"), k) for k in ("n", "seed", "n_train", "n_heldout")},
        "detector": {
            "name": _text(_get(detector, "name", "detector"), "detector.name"),
            "reconstructions": _number(
                _get(detector, "reconstructions", "detector"), "detector.reconstructions"
            ),
            "noise": _number(_get(detector, "noise", "detector"), "detector.noise"),
            "n": _count(_get(detector, "n", "detector"), "detector.n"),
            "params": params if isinstance(params, dict) else {},
        },
        "rows": [_row(r, f"rows[{i}]") for i, r in enumerate(rows)],
        "disagreements": notes,
        **({"ladder": {"checks": _checks(top["ladder"])}} if top.get("ladder") else {}),
        # Optional: verdicts written before the face check existed were made on faces.
        **({"domain": _domain(top["domain"])} if top.get("domain") else {}),
    }


def _domain(domain: Any) -> dict[str, Any]:
    # Whether the face judges applied, and the page's one line saying why.
    domain = _dict(domain, "domain")
    faces = _get(domain, "faces", "domain")
    if not isinstance(faces, bool):
        raise _Bad(f"domain.faces must be true or false, got {faces!r}")
    return {"faces": faces, "reason": _text(_get(domain, "reason", "domain"), "domain.reason")}


def _checks(ladder: Any) -> dict[str, Any]:
    # Only which metrics passed matters here: the ranking leaves out those that failed.
    checks = _dict(_get(_dict(ladder, "ladder"), "checks", "ladder"), "ladder.checks")
    return {
        key: {"passed": bool(_get(_dict(c, f"ladder.checks.{key}"), "passed", key))}
        for key, c in checks.items()
    }


def _row(row: Any, where: str) -> dict[str, Any]:
    row = _dict(row, where)
    out = {}
    for key, _ in COLUMNS:
        check = _text if key in _TEXT else _count if key in _COUNTS else _number
        out[key] = check(_get(row, key, where), f"{where}.{key}")
    # Optional: verdicts written before the ranking existed lack them.
    dup = row.get("duplicate_of")
    out["duplicate_of"] = _text(dup, f"{where}.duplicate_of") if dup is not None else None
    for key in ("spread", "mmd_p", "loglik_per_dim", "loglik_in_support"):
        out[key] = _number(row.get(key), f"{where}.{key}")
    if row.get("two_sample_n") is not None:
        out["two_sample_n"] = _count(row["two_sample_n"], f"{where}.two_sample_n")
    # Every catalogued metric and its interval, where the row has them (the ranking needs both).
    for m in METRICS:
        for key in (m.key, m.key + "_ci"):
            value = lookup(row, key)
            if value is None:
                continue
            if key.endswith("_ci"):
                if not isinstance(value, list) or len(value) != 2:
                    raise _Bad(f"{where}.{key} must be a [low, high] pair")
                value = [_number(v, f"{where}.{key}") for v in value]
                if None in value:
                    continue
            else:
                value = _number(value, f"{where}.{key}")
            _put(out, key, value)
    return out


def _put(row: dict[str, Any], key: str, value: Any) -> None:
    *path, last = key.split(".")
    for part in path:
        row = row.setdefault(part, {})
    row[last] = value


def _get(obj: dict[str, Any], key: str, where: str) -> Any:
    # A missing entry is an error; an explicit null is a metric compare could not compute.
    if key not in obj:
        raise _Bad(f"{where} has no {key!r}")
    return obj[key]


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where} must be a JSON object")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{where} must be a string, got {value!r}")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where} must be an integer, got {value!r}")
    return value


def _number(value: Any, where: str) -> float | None:
    # compare writes NaN (or null) where a metric could not be computed: shown as a dash.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{where} must be a number, got {value!r}")
    return float(value) if math.isfinite(value) else None


def verdict_link(verdict_dir: Path, out_dir: Path) -> str:
    """The href of ``verdict_dir/index.html`` as seen from the atlas page in ``out_dir``."""
    target = os.path.abspath(verdict_dir / "index.html")
    try:
        rel = os.path.relpath(target, os.path.abspath(out_dir))
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(target).as_uri()
    return quote(Path(rel).as_posix())


def section_verdict(ctx: AtlasContext, page: Page) -> None:
    v, link = ctx.verdict, ctx.verdict_link
    assert v is not None and link is not None  # the stage runs only with a verdict
    # Ranked here with the one rule, not read from the file: older verdicts carry no ranking.
    v = {**v, "ranking": rank_verdict(v)}
    ctx.summary["verdict"] = {"link": link, **v}
    sec = page.section(
        "verdict",
        "11. Generators: the verdict",
        f"From latentatlas compare: each generator fitted on {v['n_train']} train z-points, "
        f"{v['n']} samples (seed {v['seed']}) decoded and judged against {v['n_heldout']} "
        "held-out real z-points. Face rate (where the images are faces): share of decoded "
        "samples with a detected face; two-sample accuracy: a classifier telling samples from "
        "held-out points (0.5 = indistinguishable); Mahalanobis tail and precision / recall / "
        "density / coverage as in section 9; re-encoding drift, copy distance and spread "
        "relative to held-out real points (1 = like real ones; spread below 0.5 = collapsed).",
    )
    caption = f"Verdict per generator ({len(v['rows'])} generators)"
    add_verdict_table(page, sec, v, caption, rule_href=f"{link}#rule")
    page.link(sec, f"The full verdict with decoded image grids: {link}", link)
