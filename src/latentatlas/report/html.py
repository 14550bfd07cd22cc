"""One self-contained HTML page: sections, tables and figures (PNG, embedded as base64 data URIs).

The page is built in memory while the atlas runs; ``Page.write(directory)`` then writes
``index.html`` and every figure as ``<name>.png`` beside it, so the page opens offline on its own
and the PNGs can be reused elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from latentatlas import atomic

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Modest resolution: ~20 figures at 100 dpi keep the self-contained page at a few MB.
DPI = 100


def fmt(value: Any, digits: int = 4) -> str:
    """A number as the page shows it (4 significant digits, ints exact, None as a dash)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == 0:
            return "0"
        if abs(value) >= 1e5 or abs(value) < 1e-3:
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v, digits) for v in value) + ")"
    return str(value)


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes and release it (figures are never kept alive)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    # Figures are built with matplotlib.figure.Figure, not pyplot, so no global registry holds
    # them; clearing still frees the artists at once instead of waiting for the GC.
    fig.clear()
    return buf.getvalue()


@dataclass
class _Block:
    html: str


@dataclass
class Section:
    """One numbered section of the page: a title, a short intro, then blocks in order."""

    key: str
    title: str
    intro: str = ""
    blocks: list[_Block] = field(default_factory=list)


class Page:
    """Collects sections, tables and figures, then writes ``index.html`` and the PNGs."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.header: list[str] = []
        self.sections: list[Section] = []
        self.pngs: dict[str, bytes] = {}

    # -- building -------------------------------------------------------------------------------

    def add_header_table(self, rows: Sequence[tuple[str, Any]], caption: str = "") -> None:
        self.header.append(key_value_table(rows, caption))

    def section(self, key: str, title: str, intro: str = "") -> Section:
        sec = Section(key, title, intro)
        self.sections.append(sec)
        return sec

    def figure(self, section: Section, name: str, fig: Figure, what: str, key: str) -> None:
        """Add a matplotlib figure with its two-line caption: what it shows, and the key number."""
        self._check_name(name)
        self.image(section, name, figure_png(fig), what, key)

    def image(self, section: Section, name: str, png: bytes, what: str, key: str) -> None:
        """Add an already encoded PNG (e.g. an image grid drawn with Pillow) like a figure."""
        self._check_name(name)
        if not png.startswith(PNG_SIGNATURE):
            raise ValueError(f"image {name!r} is not PNG data")
        self.pngs[name] = png
        data = base64.b64encode(png).decode("ascii")
        section.blocks.append(
            _Block(
                f'<figure id="fig-{html.escape(name)}">'
                f'<img src="data:image/png;base64,{data}" alt="{html.escape(what)}">'
                f'<figcaption><span class="what">{html.escape(what)}</span><br>'
                f'<span class="key">{html.escape(key)}</span>'
                f'<span class="file"> [{html.escape(name)}.png]</span></figcaption></figure>'
            )
        )

    def _check_name(self, name: str) -> None:
        # Checked before a figure is rendered, not after: the name also names the PNG file.
        if name in self.pngs:
            raise ValueError(f"duplicate figure name {name!r}")

    def table(
        self,
        section: Section,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        caption: str = "",
    ) -> None:
        section.blocks.append(_Block(table(headers, rows, caption)))

    def key_values(
        self, section: Section, rows: Sequence[tuple[str, Any]], caption: str = ""
    ) -> None:
        section.blocks.append(_Block(key_value_table(rows, caption)))

    def lead(self, section: Section, text: str) -> None:
        """A highlighted paragraph: a section's conclusion in plain words, before its tables."""
        section.blocks.append(_Block(f'<p class="lead">{html.escape(text)}</p>'))

    def note(self, section: Section, text: str) -> None:
        section.blocks.append(_Block(f'<p class="note">{html.escape(text)}</p>'))

    def link(self, section: Section, text: str, href: str) -> None:
        """A paragraph linking elsewhere (``href`` as given: relative, so the page can move)."""
        section.blocks.append(
            _Block(
                f'<p class="link"><a href="{html.escape(href, quote=True)}">'
                f"{html.escape(text)}</a></p>"
            )
        )

    # -- output ---------------------------------------------------------------------------------

    def render(self) -> str:
        toc = "".join(
            f'<li><a href="#{html.escape(s.key)}">{html.escape(s.title)}</a></li>'
            for s in self.sections
        )
        body = []
        for s in self.sections:
            intro = f'<p class="intro">{html.escape(s.intro)}</p>' if s.intro else ""
            blocks = "\n".join(b.html for b in s.blocks)
            body.append(
                f'<section id="{html.escape(s.key)}"><h2>{html.escape(s.title)}</h2>'
                f"{intro}\n{blocks}</section>"
            )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>"
            + "\n".join(self.header)
            + f"<nav><ol>{toc}</ol></nav>\n"
            + "\n".join(body)
            + "</body></html>\n"
        )

    def write(self, directory: Path) -> None:
        """Write ``index.html`` and ``<name>.png`` for every figure into ``directory``."""
        for name, png in self.pngs.items():
            atomic.write_bytes(directory / f"{name}.png", png)
        atomic.write_text(directory / "index.html", self.render())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> str:
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def key_value_table(rows: Sequence[tuple[str, Any]], caption: str = "") -> str:
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(fmt(v))}</td></tr>" for k, v in rows
    )
    return f'<table class="kv">{cap}<tbody>{body}</tbody></table>'


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}table.kv th{text-align:left}
caption{caption-side:top;text-align:left;font-weight:600;padding-bottom:.3em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}figcaption .key{font-weight:600}
figcaption .file{color:#999;font-size:.85em}
p.intro{color:#333}p.lead{font-weight:600;background:#f4f8fc;padding:.5em .8em;
border-left:4px solid #1f77b4}p.note{color:#666;font-size:.9em}
nav ol{columns:2}
"""
