from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest

from latentatlas.atlas.demo import summary_lines
from latentatlas.core.bundled import bundled_dir
from latentatlas.verdict.ranking import RULE


@pytest.mark.slow
def test_reduced_demo_end_to_end(reduced_demo) -> None:
    out, result = reduced_demo
    for page in ("index.html", "atlas/index.html", "compare/index.html", "paths/index.html"):
        assert (out / page).is_file()
    atlas = (out / "atlas" / "index.html").read_text()
    assert "11. Generators: the verdict" in atlas
    landing = (out / "index.html").read_text()
    for target in ("atlas/index.html", "compare/index.html", "paths/index.html"):
        assert f'href="{target}"' in landing
    assert 'href="../paths/index.html"' in atlas
    assert "latentatlas explore celeba64" in landing  # how to open the explorer
    assert len(list((out / "paths").glob("*/labelled.png"))) == 2
    # Frames labelled in σ, as the text describes the paths: the segment runs -3σ to +3σ.
    segment = json.loads((out / "paths" / "segment_pc1_pc2" / "path.json").read_text())
    assert segment["coords_sigma"][0] == [-3.0, -3.0] and segment["coords_sigma"][-1] == [3.0, 3.0]
    paths = (out / "paths" / "index.html").read_text()
    assert "from (-3σ, -3σ) to (3σ, 3σ) about the centroid" in paths
    # The paths are shown in one place, the paths page; the landing page links to it.
    assert "path_segment" not in landing
    # The naive priors beside a fitted one, with their numbers, at the top of the landing page.
    for name in ("cube", "normal", "mvn"):
        assert f'id="fig-sample_{name}"' in landing
    assert landing.index("fig-sample_cube") < landing.index('id="summary"')
    assert "sections 1-11" in landing and "two-sample accuracy" in landing
    # Fitted generators (tens of MB that no page links) only when asked.
    assert not (out / "compare" / "generators").exists()
    lines = summary_lines(result)
    # five conclusions, the cube's face rate, the winner, the rule
    assert len(lines) == 8 and lines[-1] == RULE
    assert lines[-2].startswith(f"Best generator: {result['best']['generator']}")
    assert result["best"]["generator"] in ("mvn", "pca")
    assert result["b"] > 0 and result["origin_mahalanobis"] > 0


def test_atlas_decodes_segments_with_the_bundled_model(bundled, tmp_path: Path) -> None:
    from latentatlas.atlas import run_atlas

    _, store = bundled
    z = np.asarray(store.z[:400], dtype=np.float64)
    settings = {"sample": 500, "prdc_sample": 100, "fragment_pairs": 40, "decode_pairs": 12}
    s = run_atlas(z, tmp_path / "a", progress=False, model="celeba64", **settings)
    d = s["fragmentation"]["decoded"]
    assert d["model"] == "celeba64" and d["n_pairs"] == 12
    assert d["t"] == [0.0, 0.25, 0.5, 0.75, 1.0] and len(d["face_rate"]) == 5
    # The endpoints are real z-points: their reconstructions are faces (ceiling ~94 %).
    assert d["endpoints"] >= 0.75
    assert d["midpoint"] == d["face_rate"][2]
    page = (tmp_path / "a" / "index.html").read_text()
    assert "decoded: face rate" in page
    with pytest.raises(ValueError, match="latent dimension"):
        run_atlas(z[:, :16], tmp_path / "b", progress=False, model="celeba64", **settings)
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_demo_verdict_ranks_collapse_last_and_drops_duplicates(reduced_demo) -> None:
    out, _ = reduced_demo
    verdict = json.loads((out / "compare" / "verdict.json").read_text())
    ranking = verdict["ranking"]
    assert ranking["order"][-1] == "normal" and ranking["collapsed"] == ["normal"]
    dup = "pca-ball"  # see conftest.REDUCED
    assert ranking["ranks"][dup] == ranking["ranks"]["mvn"]  # a duplicate ties with its twin
    rows = {r["generator"]: r for r in verdict["rows"]}
    assert rows[dup]["duplicate_of"] == "mvn" and rows["mvn"]["duplicate_of"] is None
    assert rows["pca"]["duplicate_of"] is None  # the study's per-axis sampler is its own
    page = (out / "compare" / "index.html").read_text()
    assert f"{dup}: identical to mvn" in page
    assert not (out / "compare" / f"grid_{dup}.png").exists()
    assert (out / "compare" / "grid_pca.png").exists()
    winner = ranking["order"][0]
    assert winner in ("mvn", "pca", dup)
    assert f"Best generator: {winner}" in page and html.escape(RULE) in page
    # By how much, in verdict.json's numbers; the rule stated once, on this page, linked.
    acc = {r["generator"]: r["two_sample_accuracy"] for r in verdict["rows"]}
    assert html.escape(f"at accuracy {acc[winner]:.2f}, cube's at {acc['cube']:.2f}") in page
    for other in ("index.html", "atlas/index.html", "paths/index.html"):
        assert html.escape(RULE) not in (out / other).read_text(), other
    assert 'href="compare/index.html#rule"' in (out / "index.html").read_text()
    assert 'href="../compare/index.html#rule"' in (out / "atlas/index.html").read_text()
    summary = json.loads((out / "atlas" / "summary.json").read_text())
    assert summary["verdict"]["ranking"] == ranking


@pytest.mark.slow
def test_demo_pages_carry_no_absolute_paths(reduced_demo) -> None:
    out, _ = reduced_demo
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 4
    machine = {
        str(out.resolve()),
        str(out),
        str(out.parent),
        str(bundled_dir("celeba64")),
        str(Path.home()),
    }
    for page in pages:
        text = page.read_text()
        for path in machine:
            assert path not in text, (page, path)
    verdict = json.loads((out / "compare" / "verdict.json").read_text())
    assert verdict["checkpoint"] == "celeba64"


# The demo's pages in a real browser: headless Chromium (Debian's ``chromium``) driven by
# playwright-python, offline; skipped, saying why, where no such binary is installed.
PAGES = {  # page -> the sections that must show the winner
    "index.html": ["#sampling"],
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
        "Array.from(document.querySelectorAll('figure img'))"
        ".map(i => [i.alt, i.complete && i.naturalWidth > 0])"
    )
    assert images and all(ok for _, ok in images), [alt for alt, ok in images if not ok]
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for section in PAGES[name]:
        line = page.locator(f"{section} p.winner")
        assert line.is_visible()
        assert f"Best generator: {winner}" in line.inner_text()
    for href in page.evaluate("Array.from(document.links).map(a => a.getAttribute('href'))"):
        target, _, anchor = href.partition("#")
        file = (out / name).parent.joinpath(target.replace("%20", " ")) if target else out / name
        assert file.is_file(), href
        assert not anchor or f'id="{anchor}"' in file.read_text(), href
    page.close()


@pytest.mark.slow
def test_demo_pages_as_a_person_sees_them(browser, reduced_demo) -> None:
    """The verdict opens with the winner and the chart, a decoded grid opens large on click,
    and the links lead where they say."""
    out, _ = reduced_demo
    page = browser.new_page(viewport={"width": WIDTH, "height": 800})
    page.goto((out / "compare" / "index.html").resolve().as_uri(), wait_until="load")

    def top(selector: str) -> float:
        return page.locator(selector).first.bounding_box()["y"]

    assert top("p.winner") < top("#fig-verdict_chart") < top("table.kv") < top("#rule")
    assert page.locator("p.winner .margin").inner_text().startswith("A classifier tells")
    for text in ("The demo's landing page", "The atlas"):
        assert page.get_by_role("link", name=text, exact=True).is_visible()
    grid = page.locator("#fig-grid_cube img")
    grid.scroll_into_view_if_needed()
    small = grid.bounding_box()["width"]
    grid.click()
    big = page.locator("#lightbox img")
    assert big.is_visible() and big.evaluate("i => i.src") == grid.evaluate("i => i.src")
    assert big.bounding_box()["width"] > 2 * small
    assert page.locator("#lightbox p").inner_text().startswith("cube: decoded samples · face rate")
    page.keyboard.press("Escape")
    assert not big.is_visible()
    # The atlas's link to its verdict section lands on section 11.
    page.goto((out / "atlas" / "index.html").resolve().as_uri(), wait_until="load")
    page.get_by_role("link", name="Section 11: the verdict, with its chart and table").click()
    heading = page.locator("#verdict h2")
    assert heading.inner_text().startswith("11.") and heading.is_visible()
    numbered = page.locator("section > h2").all_inner_texts()
    assert sum(t.split(".")[0].isdigit() for t in numbered) == 11
    # The rule is one click from the winner.
    page.get_by_role("link", name="How the winner is chosen").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("compare/index.html#rule") and page.locator("#rule").is_visible()
    page.close()
