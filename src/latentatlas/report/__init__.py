"""The atlas report: figures (``figures``) and the self-contained HTML page (``html``).

``latentatlas.atlas.run_atlas`` drives them; this package only draws and lays out, it computes no
analysis of its own.
"""

from latentatlas.report.html import Page, fmt

__all__ = ["Page", "fmt"]
