"""One self-contained HTML page: sections, tables and figures (PNG, embedded as base64 data URIs).

The page is built in memory while the atlas runs; ``Page.write(directory)`` then writes
``index.html`` and every figure as ``<name>.png`` beside it, so the page opens offline on its own
and the PNGs can be reused elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from latentatlas.core import atomic
from latentatlas.core.numbers import fmt

__all__ = ["Page", "Section", "figure_png", "fmt", "key_value_table", "table"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Modest resolution: ~20 figures at 100 dpi keep the self-contained page at a few MB.
DPI = 100


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
        self.lead_key: str | None = None  # key of a first section shown before the header tables

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

    def gallery(
        self, section: Section, items: Sequence[tuple[str, bytes, str, str]], note: str = ""
    ) -> None:
        """Images side by side, several per row, each captioned above: (name, png, what, key)."""
        start = len(section.blocks)
        for name, png, what, key in items:
            self.image(section, name, png, what, key)
        figures = "".join(b.html for b in section.blocks[start:])
        del section.blocks[start:]
        extra = f'<p class="note">{html.escape(note)}</p>' if note else ""
        section.blocks.append(_Block(f'<div class="gallery">{figures}</div>{extra}'))

    def verdict_line(
        self, section: Section, winner: str, margin: str = "", rule_href: str = ""
    ) -> None:
        """The winner in bold, by how much it wins (``margin``) and a link to the rule that
        chose it (the rule is stated once, on the verdict page)."""
        detail = f'<span class="margin">{html.escape(margin)}</span>' if margin else ""
        rule = (
            f'<a class="rule" href="{html.escape(rule_href, quote=True)}">How the winner is '
            "chosen</a>"
            if rule_href
            else ""
        )
        section.blocks.append(
            _Block(f'<p class="winner"><strong>{html.escape(winner)}</strong> {detail}{rule}</p>')
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

    def bullets(self, section: Section, lines: Sequence[str], css: str = "") -> None:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        section.blocks.append(_Block(f'<ul class="{html.escape(css)}">{items}</ul>'))

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
        # An unnumbered list: section titles carry their own numbers ("1. Components").
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
        # A lead section (the conclusions) opens the page, above the settings tables.
        lead = body.pop(0) if self.sections and self.sections[0].key == self.lead_key else ""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>"
            + lead
            + "\n".join(self.header)
            + f"<nav><ul>{toc}</ul></nav>\n"
            + "\n".join(body)
            + _LIGHTBOX
            + "</body></html>\n"
        )

    def write(self, directory: Path) -> None:
        """Write ``index.html`` and ``<name>.png`` for every figure into ``directory``."""
        for name, png in self.pngs.items():
            atomic.write_bytes(directory / f"{name}.png", png)
        atomic.write_text(directory / "index.html", self.render())


def table(
    headers: Sequence[str | tuple[str, str]], rows: Sequence[Sequence[Any]], caption: str = ""
) -> str:
    """A data table; a header given as (short, full) shows the short one with the full on hover."""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{_header(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    # The wrapper scrolls a too-wide table on its own, never the whole page.
    return (
        f'<div class="wide"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _header(h: str | tuple[str, str]) -> str:
    if isinstance(h, tuple):
        short, full = h
        return f'<abbr title="{html.escape(full, quote=True)}">{html.escape(short)}</abbr>'
    return html.escape(str(h))


def key_value_table(rows: Sequence[tuple[str, Any]], caption: str = "") -> str:
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(fmt(v))}</td></tr>" for k, v in rows
    )
    return f'<table class="kv">{cap}<tbody>{body}</tbody></table>'


# Any figure opens large on click (decoded faces stay sharp: pixelated, not smoothed); a click
# anywhere or Escape closes it. Inline, so the page still needs no other file.
_LIGHTBOX = r"""<div id="lightbox" hidden role="dialog" aria-label="enlarged figure"><img alt="">
<p></p></div><script>(() => {
const box = document.getElementById("lightbox"), big = box.querySelector("img"),
  cap = box.querySelector("p");
document.addEventListener("click", (e) => {
  const img = e.target.closest("figure img");
  if (img) {
    big.src = img.src; big.alt = img.alt;
    const fc = img.closest("figure").querySelector("figcaption");
    cap.textContent = fc ? fc.innerText.replace(/\s*\n\s*/g, " · ") : img.alt;
    box.hidden = false;
  } else if (!box.hidden && box.contains(e.target)) box.hidden = true;
});
document.addEventListener("keydown", (e) => { if (e.key === "Escape") box.hidden = true; });
})();</script>"""

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4;overflow-wrap:anywhere}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
div.wide{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .35em;text-align:right;overflow-wrap:normal}
td{white-space:nowrap}
th{background:#f3f3f3}table.kv th{text-align:left}td:first-child{text-align:left}
abbr{text-decoration:none;border-bottom:1px dotted #888;cursor:help}
caption{caption-side:top;text-align:left;font-weight:600;padding-bottom:.3em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}figcaption .key{font-weight:600}
figcaption .file{color:#999;font-size:.85em}
div.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:1em}
div.gallery figure{margin:0;display:flex;flex-direction:column-reverse;justify-content:flex-end}
p.winner{font-size:1.15em;background:#eef6ee;border-left:4px solid #3a3;padding:.5em .8em}
p.winner .margin,p.winner .rule{display:block;font-size:.85em;color:#333;margin-top:.3em}
figure img{cursor:zoom-in}
#lightbox{position:fixed;inset:0;z-index:10;background:rgba(0,0,0,.88);display:flex;
flex-direction:column;align-items:center;justify-content:center;cursor:zoom-out}
#lightbox[hidden]{display:none}
#lightbox img{width:96vw;height:86vh;object-fit:contain;image-rendering:pixelated}
#lightbox p{color:#eee;margin:.5em 1em;font-size:.95em;text-align:center}
p.intro{color:#333}p.lead{font-weight:600;background:#f4f8fc;padding:.5em .8em;
border-left:4px solid #1f77b4}p.note{color:#666;font-size:.9em}
ul.conclusions li{margin:.3em 0}
nav ul{columns:2;list-style:none;padding-left:1em}
"""
