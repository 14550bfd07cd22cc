"""Section 11: the generators' verdict of ``latentatlas compare``, read from a hand-written
``verdict.json`` (tests/atlas/data/verdict), shown in the atlas and linked relatively."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from report_data import FAST, flat

from latentatlas.atlas import load_verdict, run_atlas
from latentatlas.cli import main
from latentatlas.core.html import fmt
from latentatlas.data.store import load_store

FIXTURE = Path(__file__).parent / "data" / "verdict" / "verdict.json"
ARGS = ["--seed", "3", "--pairs", "0,1", "5,9", "--sample", str(FAST["sample"])]
ARGS += ["--prdc-sample", str(FAST["prdc_sample"]), "--quiet"]


def _compare_dir(root: Path) -> Path:
    """A `latentatlas compare` output directory: the fixture plus its page."""
    vdir = root / "compare out"  # a space: the link must be URL-encoded
    vdir.mkdir(parents=True)
    shutil.copy(FIXTURE, vdir / "verdict.json")
    (vdir / "index.html").write_text("<html>the verdict page</html>")
    return vdir


@pytest.fixture(scope="module")
def with_verdict(store16: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("verdict")
    vdir = _compare_dir(root / "results")
    out = root / "reports" / "atlas"
    summary = run_atlas(
        load_store(store16),
        out,
        pairs=[(0, 1), (5, 9)],
        seed=3,
        progress=False,
        source=str(store16),
        verdict=vdir,
        **FAST,
    )
    return {"out": out, "vdir": vdir, "summary": summary}


def test_verdict_section_and_summary(
    with_verdict: dict[str, Any], atlas16: tuple[Path, dict]
) -> None:
    out, vdir, s = with_verdict["out"], with_verdict["vdir"], with_verdict["summary"]
    fixture = json.loads(FIXTURE.read_text())
    v = s["verdict"]
    assert [r["generator"] for r in v["rows"]] == ["cube", "mvn", "gmm"]
    assert v["rows"][1]["precision"] == 0.083 and v["rows"][2]["copy_distance"] is None
    assert all("fitted" not in r and "seconds" not in r for r in v["rows"])
    assert v["detector"] == {k: fixture["detector"][k] for k in v["detector"]}
    assert (v["n"], v["seed"], v["n_train"], v["n_heldout"]) == (1000, 0, 162770, 39829)
    assert v["disagreements"] == fixture["disagreements"]
    # relative to the atlas directory, and it leads to the compare page
    assert v["link"] == "../../results/compare%20out/index.html"
    assert (out / v["link"].replace("%20", " ")).resolve() == (vdir / "index.html").resolve()
    # the verdict adds a section and changes nothing else
    _, plain = atlas16
    assert {k: x for k, x in s.items() if k not in ("verdict", "figures")} == {
        k: x for k, x in plain.items() if k != "figures"
    }
    assert s["figures"] == sorted([*plain["figures"], "verdict_chart"])
    assert json.loads((out / "summary.json").read_text()) == s

    page = (out / "index.html").read_text()
    assert page.index('<section id="voids">') < page.index('<section id="verdict">')
    assert "<h2>11. Generators: the verdict</h2>" in page
    section = page[page.index('<section id="verdict">') :]
    assert f'<a href="{v["link"]}">' in section
    assert section.count("<tr><td>") == 6  # one row per generator: ranking and verdict tables
    assert "<th>face rate</th>" in section and 'title="copy distance"' in section
    assert "<th>fitted</th>" not in section and "<th>seconds</th>" not in section
    assert "94.7% of 1000 decoded held-out reconstructions" in section
    assert "86% decode to faces" in section
    # every number in the table is in summary.json (the missing copy distance is a dash)
    known = {fmt(x) for x in flat(v) if isinstance(x, (int, float))}
    for cell in re.findall(r"<td>(.*?)</td>", section):
        assert cell in known or not re.search(r"\d", cell) or cell == "–", cell


def test_analyze_verdict_reproduces_the_library_run(
    store16: Path, with_verdict: dict[str, Any], tmp_path: Path
) -> None:
    vdir = _compare_dir(tmp_path)
    out = tmp_path / "atlas"
    assert main(["analyze", str(store16), "--out", str(out), "--verdict", str(vdir), *ARGS]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"]["link"] == "../compare%20out/index.html"
    expected = with_verdict["summary"]
    assert {**summary, "verdict": None} == {**expected, "verdict": None}
    assert {**summary["verdict"], "link": None} == {**expected["verdict"], "link": None}


def _break(data: dict, how: str) -> Any:
    if how == "no_rows":
        del data["rows"]
    elif how == "text_metric":
        data["rows"][0]["precision"] = "high"
    elif how == "missing_metric":
        del data["rows"][2]["coverage"]
    elif how == "float_count":
        data["n_train"] = 1.5
    elif how == "detector":
        data["detector"] = "FaceDetector"
    elif how == "not_object":
        return [data]
    return data


@pytest.mark.parametrize(
    "how",
    [
        "missing",
        "not_json",
        "no_rows",
        "text_metric",
        "missing_metric",
        "float_count",
        "detector",
        "not_object",
    ],
)
def test_bad_verdict_is_a_one_line_error(
    how: str, store16: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    vdir = tmp_path / "compare"
    vdir.mkdir()
    if how == "not_json":
        (vdir / "verdict.json").write_text('{"n": 1000, "rows": [')
    elif how != "missing":
        data = _break(json.loads(FIXTURE.read_text()), how)
        (vdir / "verdict.json").write_text(json.dumps(data))
    out = tmp_path / "atlas"
    assert main(["analyze", str(store16), "--out", str(out), "--verdict", str(vdir), *ARGS]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("latentatlas analyze: error: ")
    assert "verdict.json" in err[0]
    assert not out.exists()
    with pytest.raises(ValueError, match="verdict"):
        load_verdict(vdir)


def test_load_verdict_accepts_the_file_and_blanks_non_finite(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text())
    data["rows"][0]["face_rate"] = float("nan")  # json writes NaN when a rate is undefined
    (tmp_path / "v.json").write_text(json.dumps(data))
    verdict, vdir = load_verdict(tmp_path / "v.json")
    assert vdir == tmp_path
    assert verdict["rows"][0]["face_rate"] is None
    assert verdict["rows"][1]["face_rate"] == 0.861
