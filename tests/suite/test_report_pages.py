"""The comparison report: renders from two places, one page per family plus overview, compare
and rows pages, no network assets, and every field from a CSV escaped."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from spikebench import results
from spikebench.report import check as report_check
from spikebench.report import site as report
from spikebench.report import style as report_style

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261123T223706Z-3537fc340a41.csv"
EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def two_places(tmp_path_factory):
    """The committed CPU run and a copy 'measured' on another machine with 1 thread, with
    hostile text in the fields a submitter controls."""
    tmp = tmp_path_factory.mktemp("rep")
    df = results.read([RUN]).drop(columns=["source_file"])
    df = df[df["framework"] == "jax"]  # half the run: every family, a quicker render
    base = tmp / "base.csv"
    df.to_csv(base, index=False)
    other = df.copy()
    other["machine_id"] = "other-box"
    other["threads"] = 1
    ok = other["status"] == "ok"
    other.loc[ok, "samples_s"] = other.loc[ok, "samples_s"].map(
        lambda s: " ".join(f"{float(x) * 1.7:.9g}" for x in s.split())
    )
    other.loc[ok, "time_median_s"] *= 1.7
    other.loc[~ok, "error"] = EVIL
    other["cpu_model"] = "<img src=x onerror=alert(1)>"
    other.loc[other.index[0], "dataset"] = "<b>|bold|</b>"
    path = tmp / "other.csv"
    other.to_csv(path, index=False)
    out = tmp / "report"
    written, problems = report_check.render_checked([base, path], out)
    return out, written, problems


def test_every_page_renders(two_places):
    out, written, _ = two_places
    names = {p.name for p in written}
    for page in (
        "index.html",
        "event_lif.html",
        "psu.html",
        "queues.html",
        "compare.html",
        "rows.html",
        "summary.md",
        "overview.png",
        "overview.svg",
    ):
        assert page in names and (out / page).stat().st_size > 500, page
    index = (out / "index.html").read_text()
    assert "amd-epyc-0a7c9cdf" in index and "other-box" in index and "1 thread" in index
    assert "1 threads" not in index
    for page in ("event_lif.html", "psu.html", "queues.html"):
        assert 'href="index.html"' in (out / page).read_text()
    compare = (out / "compare.html").read_text()
    assert compare.count("<tr>") > 150 and "slower" in compare  # other-box is 1.7x slower
    # the family tables keep the two places apart
    queues = (out / "queues.html").read_text()
    assert re.search(r"other-box cpu[^<]*, 1 thread", queues)


def test_no_network_assets(two_places):
    out, _, _ = two_places
    for page in out.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), page.name
        assert "<link" not in text and "@import" not in text


def test_every_csv_field_is_escaped(two_places):
    out, _, _ = two_places
    for page in [*out.glob("*.html"), out / "summary.md"]:
        text = page.read_text()
        assert "<script" not in text.lower(), page.name
        assert "<img src=x" not in text and "<b>" not in text, page.name
    rows = (out / "rows.html").read_text()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rows
    md = (out / "summary.md").read_text()
    assert "&lt;b&gt;\\|bold\\|&lt;/b&gt;" in md  # no raw HTML, no broken table


def test_places_table_counts_rows(two_places):
    df = results.read([RUN])
    t = report.places_table(df)
    assert len(t) == 1 and int(t["rows"].iloc[0]) == 405
    assert int(t["ok and correct"].iloc[0]) == int(np.sum(df["status"] == "ok"))


def test_figures_read_well(two_places):
    """Every figure of a two-place report passes report_style.layout_problems: no legend over
    an axes' data, every axis with data labelled with a unit, no mathtext ticks."""
    out, written, problems = two_places
    assert problems == []
    assert {"psu.png", "psu_time.png", "event_lif.png", "queues.png", "overview.png"} <= {
        p.name for p in written
    }
    svg = (out / "psu.svg").read_text()
    assert "mathdefault" not in svg and "1x" in svg  # ratio ticks read 1x, 2x
    # two places: the panels wrap at 3 a line, so the figure stays about a page wide
    width = float(re.search(r'<svg[^>]*width="([0-9.]+)pt"', svg).group(1))
    assert width < 1500, width


def test_the_index_answers_each_family_in_a_sentence(two_places):
    out, _, _ = two_places
    index = (out / "index.html").read_text()
    assert "What these results say" in index
    assert re.search(
        r"the parallel simulator runs [0-9.]+x \(IQR [0-9.]+-[0-9.]+x\) the "
        r"serial one",
        index,
    )
    assert "at its worst" in index and "LIF time / unit time at T = 15" in index
    assert re.search(r"the fastest design is \w+ in \w+", index)


def test_a_narrow_report_says_where_there_is_no_data(tmp_path):
    df = results.read([RUN]).drop(columns=["source_file"])
    narrow = df[(df["family"] == "event_lif") & (df["impl"] == "bare_scan")]
    narrow.to_csv(tmp_path / "narrow.csv", index=False)
    written, problems = report_check.render_checked([tmp_path / "narrow.csv"], tmp_path / "rep")
    assert problems == []
    assert report_style.NO_DATA in (tmp_path / "rep" / "overview.svg").read_text()
    assert "No family's headline rows" in (tmp_path / "rep" / "index.html").read_text()


@pytest.mark.skipif(report_check.chromium() is None, reason="no headless Chromium here")
def test_every_page_fits_1400px_and_800px_in_headless_chromium(two_places):
    out, _, _ = two_places
    pages = report_check.check_pages(out)
    assert {p["page"] for p in pages} >= {"index.html", "psu.html", "queues.html"}
    assert {p["window"] for p in pages} == set(report_check.WIDTHS) == {1400, 800}
    for p in pages:
        assert p["problems"] == [], (p["page"], p["window"], p["problems"])
    index = next(p for p in pages if p["page"] == "index.html")
    assert index["headings"][1].startswith("Answers")  # the answer table comes first
