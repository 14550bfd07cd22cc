"""``latentatlas explore`` end to end in a real browser: the CLI serves the bundled model on a
free port; headless Chromium (Debian's ``chromium``, driven by playwright-python, offline) loads
the page, waits for the points, clicks into the plane, moves a slider, makes a path, overlays a
generator, exports a box selection, applies a slice, picks a real point and opens the view
from its URL in a new tab, with no console error and no failed request. Skips only where no
chromium (or playwright) is installed.

``LATENTATLAS_SCREENSHOT=docs/images/explore.png`` saves the README's screenshot from the second
test's run.
"""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

TIMEOUT_MS = 60_000  # generous: the suite shares two cores with other work

# Pixels of an <img> (same origin), for "loaded, not blank" and "changed" checks.
PIXELS = """id => { const img = document.getElementById(id);
  if (!img.complete || !img.naturalWidth) return null;
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data); }"""


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "latentatlas", "explore", "celeba64", "--port", "0"]
    proc = subprocess.Popen(
        [*cmd, "--no-browser", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, line + proc.stdout.read()
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _page(browser, server: str, errors: list[str], failed: list[str]):
    """A new tab that records console errors and failed requests, and lets nothing but the
    explorer itself (and data:/blob: URLs) through: the page works offline."""
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith((server, "data:", "blob:"))
            else (failed.append(route.request.url), route.abort())
        ),
    )
    return page


def _decoded(page, action) -> None:
    """Run ``action`` and wait until the face it asks for has been decoded and shown."""
    done = page.evaluate("window.__explore.decodes")
    action()
    page.wait_for_function(f"window.__explore.decodes > {done}")


def _at(box: dict, fx: float, fy: float) -> tuple[float, float]:
    """The page position at fractions (fx, fy) of a bounding box."""
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def _std(pixels: list[int]) -> float:
    import numpy as np

    rgb = np.asarray(pixels, dtype=float).reshape(-1, 4)[:, :3]
    return float(rgb.std())


@pytest.mark.slow
def test_explorer_in_a_browser(server: str, browser, tmp_path: Path) -> None:
    import numpy as np

    errors: list[str] = []
    failed: list[str] = []
    page = _page(browser, server, errors, failed)
    page.goto(server)
    page.wait_for_function("window.__explore.ready && window.__explore.firstPaint !== null")
    # The points are drawn: 10,000 in the WebGL trace, on a canvas.
    assert page.evaluate("document.getElementById('plot-area').data[0].x.length") == 10000
    assert page.locator("#plot canvas").count() >= 1

    # 1. Click into the plane: a decoded face appears (loaded, not blank) with its numbers.
    box = page.locator(".draglayer .nsewdrag").bounding_box()
    assert box is not None
    page.wait_for_function("window.__explore.decodes >= 1")  # the centroid, on load
    _decoded(page, lambda: page.mouse.click(*_at(box, 0.4, 0.4)))
    first = page.evaluate(PIXELS, "face")
    assert first and len(first) == 64 * 64 * 4 and _std(first) > 10
    assert "Mahalanobis distance" in page.locator("#face-info").inner_text()
    assert "at=" in page.url  # the view is in the URL

    # 2. Move a slider: the face follows.
    smiling = page.locator('#sliders input[data-axis="attr:Smiling"]')
    _decoded(page, lambda: smiling.fill("2.5"))
    second = page.evaluate(PIXELS, "face")
    assert np.abs(np.subtract(first, second)).mean() > 1
    assert "mv=attr%3ASmiling%3D2.5" in page.url

    # 3. A path between two decoded points: the strip appears, exportable as PNG.
    page.click("#set-a")
    _decoded(page, lambda: page.mouse.click(*_at(box, 0.6, 0.6)))
    page.click("#set-b")
    page.fill("#steps", "8")
    page.click("#make-path")
    page.wait_for_function("document.getElementById('strip').naturalWidth > 0")
    assert page.evaluate("document.getElementById('strip').naturalWidth") == 8 * 66 + 2
    assert page.locator("#strip-png").get_attribute("href").startswith("data:image/png")
    drawn = "document.querySelector('#overlay polyline').getAttribute('points')"
    assert len(page.evaluate(drawn).split()) == 8  # the path's 8 points, on the plane

    # 4. A generator's samples in the same projection.
    page.select_option("#gen", "mvn")
    page.wait_for_function("document.getElementById('plot-area').data[1].x.length === 2000")

    # 4b. Box-select real points (plotly's select tool); export their ids and z-points.
    page.click('.modebar-btn[data-val="select"]')
    page.mouse.move(box["x"] + 0.45 * box["width"], box["y"] + 0.45 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.55 * box["width"], box["y"] + 0.55 * box["height"], steps=5)
    page.mouse.up()
    page.wait_for_function(
        "/^[1-9]\\d* real points selected/.test(document.getElementById('sel-count').textContent)"
    )
    selected = int(page.locator("#sel-count").inner_text().split()[0])
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0] == "index,id,split" and len(rows) == selected + 1
    with page.expect_download() as download:
        page.click("#export-npy")
    assert np.load(download.value.path()).shape == (selected, 256)
    page.click('.modebar-btn[data-val="pan"]')

    # 5. The study's slice in a plane of two components, with its count.
    page.select_option("#ax", "z:0")
    page.select_option("#ay", "z:1")
    page.wait_for_function(
        "document.getElementById('plot-area').layout.xaxis.title.text === 'z[0]'"
    )
    page.fill("#slice-b", "20")
    page.click("#slice")
    page.wait_for_function(
        "/of 10000 real points/.test(document.getElementById('slice-count').textContent)"
    )
    count = int(page.locator("#slice-count").inner_text().split()[0])
    assert 0 < count < 10000
    assert page.evaluate("document.getElementById('plot-area').data[2].x.length") == count

    # 6. Hover a real point: its reconstruction, id, split, attributes. Then pick it (a click in
    # pick mode): its neighbours' faces, and it becomes the base of the decoded point.
    # (The generator overlay off first: hovering one of its samples decodes that sample.)
    page.select_option("#gen", "")
    page.wait_for_function("document.getElementById('plot-area').data[1].x.length === 0")
    page.evaluate(
        "hoverShown = null; document.getElementById('real-info').textContent = '';"
        "document.getElementById('neighbours').removeAttribute('src')"
    )
    centre = (box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])
    page.mouse.move(centre[0] - 3, centre[1] - 3)
    page.mouse.move(*centre)
    page.wait_for_function(
        "/\\.jpg \\(#\\d+, /.test(document.getElementById('real-info').textContent)"
    )
    assert _std(page.evaluate(PIXELS, "real-face")) > 10
    page.check('input[name="mode"][value="pick"]')
    _decoded(page, lambda: page.mouse.click(*centre))
    page.wait_for_function("document.getElementById('neighbours').naturalWidth === 6 * 66 + 2")
    assert page.locator("#base").input_value() == "selected" and "sel=" in page.url
    assert "nearest:" in page.locator("#real-info").inner_text()

    # 7. The same URL in a new tab: the same view, decoded again. (A new tab, not a reload of
    # this one: leaving a page cancels its requests in flight, which would count as failed.)
    page.check('input[name="mode"][value="decode"]')
    _decoded(page, lambda: smiling.fill("1.5"))
    again = _page(browser, server, errors, failed)
    again.goto(page.url)
    again.wait_for_function("window.__explore.ready && window.__explore.decodes >= 1")
    assert again.evaluate("document.getElementById('plot-area').layout.xaxis.title.text") == "z[0]"
    assert again.locator('#sliders input[data-axis="attr:Smiling"]').input_value() == "1.5"
    assert again.locator("#base").input_value() == "selected"
    assert _std(again.evaluate(PIXELS, "face")) > 10

    assert errors == [] and failed == [], (errors, failed)
    again.close()
    page.close()


def _count(page, selector: str, n: int) -> None:
    page.wait_for_function(f"document.querySelectorAll({selector!r}).length === {n}")


def _title(page, axis: str) -> str:
    return page.evaluate(f"document.getElementById('plot-area').layout.{axis}axis.title.text")


@pytest.mark.slow
def test_explorer_workflows_stay_local_and_undoable(server: str, browser) -> None:
    """One session through the issue 19 workflows: a bad generator in the URL, the plane's
    geometry, a toolbar click, axes kept and undone, an uploaded image, pins compared and used
    as an axis, a path with coordinates, nearest real images, help, find, a narrow window; no
    request leaves 127.0.0.1."""
    import numpy as np
    from PIL import Image

    errors: list[str] = []
    failed: list[str] = []
    seen: list[str] = []
    page = _page(browser, server, errors, failed)
    page.on("request", lambda r: seen.append(r.url))

    # An unknown generator in the URL: said so, and the page still becomes ready.
    page.goto(server + "#gen=nope")
    page.wait_for_function("window.__explore.ready && window.__explore.decodes >= 1")
    assert "unknown generator" in page.locator("#notice").inner_text()
    assert "gen=" not in page.url

    # No control that reaches a network: plotly's toolbar without its cloud and logo links.
    titles = page.evaluate(
        "[...document.querySelectorAll('.modebar-btn')].map(b => b.dataset.title || '')"
    )
    assert titles and not [t for t in titles if re.search("share|cloud|studio", t, re.I)]
    assert page.locator(".modebar a[href]").count() == 0

    # Equal scales; three σ-ellipses, origin and centroid above the points; the colour bar
    # lists only the splits that have points; the readout names the band in words.
    scale = page.evaluate(
        "(() => { const f = document.getElementById('plot-area')._fullLayout;"
        " return [f.xaxis._m, f.yaxis._m]; })()"
    )
    assert abs(abs(scale[0]) - abs(scale[1])) < 1e-6 * abs(scale[0])
    svg = page.locator("#overlay").bounding_box()
    ellipses = page.locator("#overlay .ellipse")
    assert ellipses.count() == 3
    assert page.locator("#overlay .origin, #overlay .centroid").count() == 2
    for k in range(3):
        e = ellipses.nth(k).bounding_box()
        assert e["width"] > 5 and svg["x"] - 1 <= e["x"]
        assert e["x"] + e["width"] <= svg["x"] + svg["width"] + 1
    splits = page.evaluate("meta.splits")
    ticks = page.evaluate(
        "document.getElementById('plot-area')._fullData[0].marker.colorbar.ticktext"
    )
    assert ticks == [name for name, count in splits.items() if count > 0]
    assert "empty core" in page.locator("#face-info").inner_text()
    # The study's slice needs a plane of two components: disabled here, saying why.
    assert page.locator("#slice").is_disabled()
    assert "two components" in page.locator("#slice-count").inner_text()

    # A toolbar click is not a click in the plane: nothing decoded, the view unchanged.
    done, url = page.evaluate("window.__explore.decodes"), page.url
    page.hover(".draglayer .nsewdrag")
    page.click('.modebar-btn[data-attr="zoom"][data-val="in"]')
    page.wait_for_timeout(300)
    assert page.evaluate("window.__explore.decodes") == done and page.url == url
    page.click('.modebar-btn[data-attr="zoom"][data-val="reset"]')

    # Click, then change the y axis: the point is kept (the same face), the readout follows;
    # back restores the previous view.
    box = page.locator(".draglayer .nsewdrag").bounding_box()
    _decoded(page, lambda: page.mouse.click(*_at(box, 0.55, 0.45)))
    clicked, face = page.url, page.evaluate(PIXELS, "face")
    info = page.locator("#face-info").inner_text()
    _decoded(page, lambda: page.select_option("#ay", "pc:2"))
    page.wait_for_function("document.getElementById('plot-area').layout.yaxis.title.text === 'pc3'")
    assert page.evaluate(PIXELS, "face") == face and page.locator("#face-info").inner_text() != info
    page.go_back()
    page.wait_for_function("document.getElementById('plot-area').layout.yaxis.title.text === 'pc2'")
    assert page.url == clicked and page.locator("#ay").input_value() == "pc:1"

    # Bring your own image (here the decoder's own face, upscaled: no real image): cropped,
    # encoded, pinned beside its reconstruction, marked in the plane, and the base.
    buf = io.BytesIO()
    rgb = np.asarray(face, dtype=np.uint8).reshape(64, 64, 4)[:, :, :3]
    Image.fromarray(rgb).resize((160, 160)).save(buf, format="PNG")
    done = page.evaluate("window.__explore.decodes")
    page.set_input_files(
        "#upload", files=[{"name": "mine.png", "mimeType": "image/png", "buffer": buf.getvalue()}]
    )
    _count(page, "#pins figure.pin", 1)
    page.wait_for_function(f"window.__explore.decodes > {done}")
    assert re.search(r"base=p[0-9a-f]{16}", page.url)
    assert page.locator("#pins figure.pin img").count() == 2  # the crop and its reconstruction
    assert page.locator("#overlay rect.pin").count() == 1

    # Pin a decoded point ("p"), tick both: side by side; their difference becomes the x axis.
    _decoded(page, lambda: page.mouse.click(*_at(box, 0.35, 0.6)))
    page.keyboard.press("p")
    _count(page, "#pins figure.pin", 2)
    for k in range(2):
        page.locator("#pins input[type=checkbox]").nth(k).check()
        page.wait_for_timeout(50)
    _count(page, "#compare figure", 2)
    left, right = (page.locator("#compare figure").nth(k).bounding_box() for k in range(2))
    assert left["y"] == right["y"] and right["x"] >= left["x"] + left["width"]
    page.click("#diff-axis")
    page.wait_for_function(
        "document.getElementById('plot-area').layout.xaxis.title.text.includes('→')"
    )

    # A path between the two pins: more than 64 steps is refused aloud; 6 steps are drawn as
    # frames with coordinates, each opens large, and the exported PNG carries them.
    for k, end in enumerate("AB"):
        page.locator("#pins figure.pin").nth(k).get_by_role("button", name=end, exact=True).click()
    page.fill("#steps", "100")
    page.click("#make-path")
    assert "100 refused" in page.locator("#status").inner_text()
    page.fill("#steps", "6")
    page.click("#make-path")
    _count(page, "#path-frames figure", 6)
    assert re.match(r"\(-?\d", page.locator("#path-frames figcaption").first.inner_text())
    png = page.locator("#strip-png").get_attribute("href")
    labelled = Image.open(io.BytesIO(base64.b64decode(png.split(",")[1])))
    assert labelled.size[1] > 2 * 64  # frames at twice their size, a title and coordinates
    page.locator("#path-frames canvas").first.click()
    assert page.locator("#zoom").is_visible()
    caption = page.locator("#zoom-caption").inner_text()
    assert "frame 1 of 6 at (" in caption and "Mahalanobis" in caption
    page.keyboard.press("Escape")
    assert not page.locator("#zoom").is_visible()

    # The nearest real images to the decoded point, with their distances.
    _count(page, "#nearest figure", 6)
    assert "distance" in page.locator("#nearest canvas").first.get_attribute("title")

    shot = os.environ.get("LATENTATLAS_SCREENSHOT")
    if shot:  # reconstructions of real CelebA images are never committed: those panels emptied
        page.evaluate(
            "for (const id of ['nearest', 'neighbour-frames', 'real-info', 'notice'])"
            " document.getElementById(id).textContent = '';"
            "document.getElementById('nearest').textContent = '(real images: not shown here)';"
            "document.getElementById('real-face').removeAttribute('src');"
            "document.getElementById('faces').scrollTop = 0"
        )
        page.screenshot(path=shot)

    # Help with every control and the keys; find by index.
    page.keyboard.press("?")
    assert page.locator("#help").is_visible() and "Keyboard" in page.locator("#help").inner_text()
    page.keyboard.press("Escape")
    page.fill("#find", "#5")
    page.click("#find-go")
    page.wait_for_function("/^1 real points/.test(document.getElementById('found').textContent)")
    assert page.evaluate("document.getElementById('plot-area').data[3].x.length") == 1

    # A narrow window: the plot keeps most of the width, the panels go below.
    page.set_viewport_size({"width": 800, "height": 800})
    page.wait_for_function(
        "document.getElementById('plot-area').getBoundingClientRect().width >= 600"
    )
    assert page.locator("#faces").bounding_box()["y"] > page.locator("#plot").bounding_box()["y"]

    hosts = {urlsplit(u).hostname for u in seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert errors == [] and failed == [], (errors, failed)
    page.close()
