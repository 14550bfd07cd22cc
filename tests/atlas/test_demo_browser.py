"""The demo's pages in a real browser: headless Chromium (Debian's ``chromium``) driven by
playwright-python. Playwright's own browser download is never used: the test launches the
system binary, offline, and skips only where no such binary (or playwright) is installed."""

from __future__ import annotations

import json

import pytest

# The reduced demo (a session fixture of atlas/conftest.py) is made once, for both files.
pytestmark = pytest.mark.xdist_group("reduced_demo")

PAGES = {  # page -> the sections that must show the winner
    "index.html": ["#summary"],
    "compare/index.html": ["#table"],
    "atlas/index.html": ["#conclusions", "#verdict"],
    "paths/index.html": [],
}
WIDTH = 1024


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PAGES))
def test_demo_page_renders_cleanly(name: str, browser, reduced_demo) -> None:
    out, _ = reduced_demo
    winner = json.loads((out / "compare" / "verdict.json").read_text())["ranking"]["winner"]
    page = browser.new_page(viewport={"width": WIDTH, "height": 800})
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    # Offline: anything but the local files and embedded data is a failure.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:"))
            else (failed.append(route.request.url), route.abort())
        ),
    )
    page.goto((out / name).resolve().as_uri(), wait_until="load")
    assert errors == [] and failed == []
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])"
    )
    assert images and all(ok for _, ok in images), [alt for alt, ok in images if not ok]
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for section in PAGES[name]:
        line = page.locator(f"{section} p.winner")
        assert line.is_visible()
        assert f"Best generator: {winner}" in line.inner_text()
    for href in page.evaluate("Array.from(document.links).map(a => a.getAttribute('href'))"):
        if not href.startswith("#"):
            assert (out / name).parent.joinpath(href.replace("%20", " ")).is_file(), href
    page.close()
