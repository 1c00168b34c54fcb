#!/usr/bin/env python
"""Publish a results folder and photograph the site in headless Chromium at 1400x900.

    .venv/bin/python scripts/site_screenshots.py [--results results] [--out docs/site]
        [--images docs/images] [--benchmark bench_linalg.time_solve] [--query 'x=torch&...']

Writes the site with ``ptbench publish`` (timed), then PNGs of its index and of one benchmark
page, and says how many points that page drew and whether any request left the site.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ptbench.present import publish

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import Browser  # noqa: E402  (the tests' Chromium driver)

PROJECT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=PROJECT / "results")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "site")
    parser.add_argument("--images", type=Path, default=PROJECT / "docs" / "images")
    parser.add_argument("--benchmark", default="bench_linalg.time_solve")
    parser.add_argument("--query", default="x=torch&dtype=float64&method=cholesky")
    args = parser.parse_args()
    start = time.perf_counter()
    pages = publish.write(args.results, args.out)
    print(f"ptbench publish: {len(pages)} pages in {time.perf_counter() - start:.1f} s")
    args.images.mkdir(parents=True, exist_ok=True)
    with Browser(1400, 900) as browser:
        browser.open((args.out / "index.html").as_uri())
        browser.screenshot(args.images / "site-index.png")
        page = args.out / publish.benchmark_file(args.benchmark)
        browser.open(f"{page.as_uri()}?{args.query}")
        points = browser.wait_until("document.body.dataset.points")
        time.sleep(0.5)  # let plotly finish its transition before the picture
        browser.screenshot(args.images / "site-benchmark.png")
        outside = [url for url in browser.requests if not url.startswith("file://")]
    print(f"{args.benchmark}: {points} points drawn; requests outside the site: {outside or 0}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
