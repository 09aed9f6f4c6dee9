"""Check a rendered report as a reader sees it: every page in headless Chromium at 1400 px
and at 800 px (a laptop split screen, a tablet).

Two layers:

- figures (no browser needed): ``report_style.save`` runs ``layout_problems`` on every
  figure as it is written (a legend over an axes' data, an axis with data but no label or no
  unit, mathtext tick labels); ``render_checked`` renders a report and returns them.
- pages (headless Chromium, where installed: Debian's ``chromium``, or ``$CHROMIUM``):
  ``check_pages`` loads each page at each of ``WIDTHS`` with a small script that measures it after
  layout: the page's width against the window (nothing may stick out sideways), each image's
  rendered size against its natural size, the headings, the tables and their widths. It
  returns one dict per page and, with ``shots``, writes a full-page screenshot.

``python scripts/check_report.py [RESULTS...]`` prints both for a report of `results/`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

WIDTHS = (1400, 800)

_PROBE = """<script>
window.addEventListener('load', () => {
  const d = document.documentElement;
  const imgs = [...document.images].map(i => ({src: i.getAttribute('src'),
      w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height,
      natural_w: i.naturalWidth, loaded: i.complete && i.naturalWidth > 0}));
  const tables = [...document.querySelectorAll('table')].map(t => ({
      w: t.getBoundingClientRect().width, rows: t.rows.length}));
  const out = {title: document.title, width: d.scrollWidth, window: window.innerWidth,
      height: d.scrollHeight, headings: [...document.querySelectorAll('h1,h2')].map(
      h => h.textContent), images: imgs, tables: tables,
      items: document.querySelectorAll('li').length};
  const pre = document.createElement('pre'); pre.id = 'spikebench-check';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


def chromium() -> str | None:
    """The headless browser: $CHROMIUM, else chromium / chromium-browser / google-chrome on
    the PATH (None: the page checks are skipped, the figure checks still run)."""
    env = os.environ.get("CHROMIUM")
    if env and shutil.which(env):
        return shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _run(browser: str, args: list[str], width: int = WIDTHS[0], timeout: float = 120) -> str:
    done = subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},1000",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-500:]}")
    return done.stdout


def check_pages(report_dir: Path, shots: Path | None = None, widths=WIDTHS) -> list[dict]:
    """Measure every page of a rendered report in headless Chromium at each window width of
    `widths` (module doc); one dict per page and width (``page``, ``window``), each with
    ``problems``: the page wider than the window, an image shown wider than the window or
    not loaded, an empty page. Screenshots (`shots`) are named ``<page>-<width>.png``."""
    browser = chromium()
    if browser is None:
        raise RuntimeError(
            "no headless Chromium found (apt-get install chromium, or set $CHROMIUM)"
        )
    report_dir = Path(report_dir)
    out = []
    with tempfile.TemporaryDirectory(dir=report_dir, prefix=".check-") as tmp:
        for page in sorted(report_dir.glob("*.html")):
            probe = Path(tmp) / page.name
            probe.write_text(page.read_text().replace("</html>", _PROBE + "</html>"))
            for f in report_dir.iterdir():  # the figures beside the page
                link = Path(tmp) / f.name
                if f.is_file() and f.suffix in (".svg", ".png") and not link.exists():
                    os.symlink(f.resolve(), link)
            for width in widths:
                out.append(_check_one(browser, page, probe, width, shots))
    return out


def _check_one(browser: str, page: Path, probe: Path, width: int, shots) -> dict:
    import html

    dom = _run(browser, ["--dump-dom", probe.resolve().as_uri()], width)
    start = dom.find('<pre id="spikebench-check">')
    if start < 0:
        return {"page": page.name, "window": width, "problems": ["the probe did not run"]}
    text = dom[start + len('<pre id="spikebench-check">') : dom.find("</pre>", start)]
    facts = json.loads(html.unescape(text))
    problems = []
    if facts["width"] > facts["window"]:
        problems.append(f"page {facts['width']} px wide in a {facts['window']} px window")
    for im in facts["images"]:
        if not im["loaded"]:
            problems.append(f"image {im['src']} did not load")
        elif im["w"] > facts["window"]:
            problems.append(f"image {im['src']} shown {im['w']:.0f} px wide")
    if not facts["headings"]:
        problems.append("no heading")
    facts.update(page=page.name, problems=problems)
    if shots is not None:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shot = (Path(shots) / f"{page.stem}-{width}.png").resolve()
        _run(
            browser,
            [
                f"--screenshot={shot}",
                f"--window-size={width},{min(int(facts['height']), 16000)}",
                page.resolve().as_uri(),
            ],
            width,
        )
    return facts


def render_checked(paths, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Render a report and return (files, figure problems found while writing it)."""
    from . import site as report
    from . import style as report_style

    report_style.PROBLEMS.clear()
    files = report.render(paths, out_dir)
    return files, list(report_style.PROBLEMS)
