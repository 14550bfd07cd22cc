"""The overview map, its links to the plane, attribute filters, the density image and thumbnails
in headless Chromium, in one page load: the explorer of the first 400 bundled z-points (its
overview embedding PCA, cheap; the plane drawn as a density image beyond 300 points) served in a
thread of this process."""

from __future__ import annotations

import threading

import pytest

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(small_explorer):
    import uvicorn

    from latentatlas.explore import bind, create_app
    from latentatlas.explore.guard import server_config
    from latentatlas.explore.overview import Overview, pca_embedding

    ex = small_explorer(400)
    ex.overview = Overview(ex.space, embed=pca_embedding)
    ex.draw_max = 300  # 400 points: the density image, points once zoomed in
    sock = bind()
    server = uvicorn.Server(server_config(create_app(ex)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _drag(page, box: dict, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.mouse.move(box["x"] + a[0] * box["width"], box["y"] + a[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + b[0] * box["width"], box["y"] + b[1] * box["height"], steps=4)
    page.mouse.up()


def test_overview_linked_to_the_plane(server: str, browser) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.wait_for_function("window.__explore.ready && window.__explore.firstPaint !== null")
    # 400 > 300 points: a density image of all 400, no points drawn until zoomed in.
    plot = "document.getElementById('plot-area')"
    assert page.evaluate(f"{plot}.data.at(-1).type") == "heatmap"  # the last trace
    assert page.evaluate(f"{plot}.data[0].x.length") == 0
    assert page.evaluate("window.__overview.state") == "idle"  # nothing computed unasked

    # Zoom to the middle: the real points of the view box are drawn (at most 300).
    page.evaluate(
        f"(() => {{ const p = {plot}, xr = p._fullLayout.xaxis.range,"
        " yr = p._fullLayout.yaxis.range;"
        "const cx = (xr[0] + xr[1]) / 2, cy = (yr[0] + yr[1]) / 2, w = (xr[1] - xr[0]) / 8,"
        " h = (yr[1] - yr[0]) / 8; Plotly.relayout(p, {'xaxis.range': [cx - w, cx + w],"
        " 'yaxis.range': [cy - h, cy + h]}); })()"
    )
    page.wait_for_function("window.__explore.densityPoints > 0")
    shown = page.evaluate("window.__explore.densityPoints")
    assert shown < 300 and page.evaluate(f"{plot}.data[0].x.length") == shown

    # Open the overview: computed on demand, then drawn.
    page.click("#overview-box summary")
    page.wait_for_function("window.__overview.state === 'ready'")
    assert page.evaluate("document.getElementById('overview-plot').data[0].x.length") == 400
    assert "PCA of 400 real points" in page.inner_text("#overview-state")

    # Box-select in the map: the same real points are marked on the plane (those in view).
    page.click('#overview-plot .modebar-btn[data-val="select"]')
    _drag(page, page.locator("#overview-plot .nsewdrag").bounding_box(), (0.05, 0.05), (0.95, 0.95))
    page.wait_for_function("window.__overview.marked > 0")
    marked = page.evaluate("linked.marked")
    in_view = page.evaluate("Array.from(window.__explore.plane.index)")
    assert page.evaluate("window.__overview.drawn") == len(set(marked) & set(in_view)) > 0
    assert page.evaluate("document.getElementById('overview-plot').data[1].x.length") == len(marked)

    # Box-select in the plane: the same points are marked in the map.
    page.click('#plot-area .modebar-btn[data-val="select"]')
    _drag(page, page.locator("#plot-area .nsewdrag").bounding_box(), (0.3, 0.3), (0.7, 0.7))
    page.wait_for_function(f"window.__overview.marked !== {len(marked)}")
    picked = page.evaluate("linked.marked")
    assert picked and set(picked) <= set(in_view)
    assert page.evaluate("document.getElementById('overview-plot').data[1].x.length") == len(picked)
    page.click('#plot-area .modebar-btn[data-val="pan"]')

    # A filter by attribute, with its count; its points are the marked ones.
    page.select_option("#overview-filter", "Smiling")
    page.wait_for_function(
        "/^Smiling: \\d+ of 400/.test(document.getElementById('overview-count').textContent)"
    )
    count = int(page.inner_text("#overview-count").split()[1])
    assert page.evaluate("window.__overview.marked") == count
    options = page.locator("#overview-filter option").all_inner_texts()
    assert any(o.startswith("Male (") for o in options)

    # Thumbnails instead of dots: reconstructions at real points of the view box.
    page.check("#thumbs-on")
    page.wait_for_function("window.__thumbs.shown > 0")
    thumbs = page.locator("#thumbs-layer image")
    assert 0 < thumbs.count() <= 64
    where = thumbs.evaluate_all("els => els.map(e => +e.dataset.index)")
    assert set(where) <= set(page.evaluate("Array.from(window.__explore.plane.index)"))
    assert errors == [], errors
    page.close()
