"""Render a report of result CSVs and check it as a reader sees it (spikebench.report.check):
the figure checks, then every page in headless Chromium at 1400 and 800 px, with screenshots.

    python scripts/check_report.py [RESULTS ...] [--out reports/check] [--shots DIR]

Exit code 1 when a figure or a page has a problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spikebench.report import check as report_check


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="*", default=["results"], help="CSV files or folders")
    ap.add_argument("--out", default="reports/check", help="report folder")
    ap.add_argument("--shots", default=None, help="write full-page screenshots here")
    args = ap.parse_args(argv)
    files, problems = report_check.render_checked(args.results, Path(args.out))
    print(f"report: {len(files)} files in {args.out}")
    for p in problems:
        print(f"figure problem: {p}")
    if report_check.chromium() is None:
        print("no headless Chromium: page checks skipped (apt-get install chromium)")
        return 1 if problems else 0
    bad = len(problems)
    for page in report_check.check_pages(Path(args.out), args.shots and Path(args.shots)):
        imgs = ", ".join(f"{i['src']} {i['w']:.0f}x{i['h']:.0f}" for i in page.get("images", []))
        print(
            f"{page['page']} in {page.get('window')} px: {page.get('width')} px wide, "
            f"{page.get('height')} px tall; "
            f"headings: {' | '.join(page.get('headings', []))}; {len(page.get('tables', []))} "
            f"tables; {page.get('items', 0)} list items; images: {imgs or 'none'}"
        )
        for p in page["problems"]:
            print(f"  page problem: {p}")
        bad += len(page["problems"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
