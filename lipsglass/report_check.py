"""Open a Snakemake HTML report in headless Chromium and check that it shows every figure.

    python -m lipsglass check-report results/report.html --expect results/figures/*.png \\
        results/summary/scorecard.html

The report is a single-page app: results are listed by category and subcategory and shown when
their eye button is clicked. For every expected file this clicks through exactly that path, as a
reader would, and checks that the browser decoded and laid out the image (natural and rendered
size > 0) or the HTML page, and that the caption is shown in the result's information panel.
JavaScript errors of the page are reported too. The browser is Debian's Chromium (no browser
download); Playwright only drives it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

# Chromium as root on a machine without network: no sandbox, no background connections
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")


def find_chromium() -> str | None:
    """``LIPSGLASS_CHROMIUM``, else the first Chromium/Chrome on the PATH."""
    if os.environ.get("LIPSGLASS_CHROMIUM"):
        return os.environ["LIPSGLASS_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _caption_words(caption_html: str, n: int = 8) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", caption_html or ""))
    return " ".join(text.split()[:n])


def check_report(report: str | Path, expected: list[str], chromium: str | None = None,
                 timeout_ms: float = 30000) -> dict:
    """Click through the report to every expected result; returns ``{"shown": [...],
    "problems": [...]}`` (an empty problem list: every figure is listed, displayed and captioned)."""
    from playwright.sync_api import sync_playwright

    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (install Debian's chromium or set LIPSGLASS_CHROMIUM)")
    url = Path(report).resolve().as_uri()
    shown, problems, page_errors = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(timeout_ms)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(url)
            categories = page.evaluate("categories")          # {category: {subcategory: [paths]}}
            listed = {path: (cat, sub) for cat, subs in categories.items() for sub, paths in subs.items()
                      for path in paths}
            problems += [f"{path}: not in the report" for path in expected if path not in listed]
            for path in expected:
                if path not in listed:
                    continue
                cat, sub = listed[path]
                entry = page.evaluate("(p) => ({caption: results[p].caption, mime: results[p].mime_type})", path)
                page.goto(url)
                panel = page.locator("div", has=page.locator("nav")).first   # the navigation panel
                panel.get_by_text(cat, exact=True).first.click()
                if len(categories[cat]) > 1:
                    panel.get_by_text(sub, exact=True).first.click()
                row = page.locator("tr", has_text=path).first
                row.locator("a[iconname=eye]").click()
                problem = _displayed(page, Path(path).name, entry["mime"], timeout_ms)
                if problem is None:
                    row.locator("a[iconname='information-circle']").click()
                    words = _caption_words(entry["caption"])
                    if not words:
                        problem = "no caption"
                    elif words not in " ".join(page.inner_text("body").split()):
                        problem = f"caption not shown ({words!r})"
                if problem is None:
                    shown.append(path)
                else:
                    problems.append(f"{path} ({cat} / {sub}): {problem}")
        finally:
            browser.close()
    problems += [f"JavaScript error: {e}" for e in page_errors]
    return {"shown": shown, "problems": problems}


def _displayed(page, name: str, mime: str, timeout_ms: float) -> str | None:
    """None when the result is visible in the main panel, else what is wrong."""
    if name.lower().endswith(IMAGE_SUFFIXES):
        image = page.locator(f"img[src*='filename={name};']").first
        try:
            image.wait_for(state="visible", timeout=timeout_ms)
        except Exception:
            return "image not displayed"
        natural, width = image.evaluate("(i) => [i.naturalWidth * i.naturalHeight, i.getBoundingClientRect().width]")
        return None if natural > 0 and width > 0 else f"image not decoded (pixels {natural}, width {width})"
    if "html" in (mime or ""):
        frame = page.locator("iframe").first
        try:
            frame.wait_for(state="visible", timeout=timeout_ms)
        except Exception:
            return "HTML page not displayed"
        body = frame.content_frame.locator("body")
        return None if body.inner_text().strip() else "HTML page displayed empty"
    return f"no check for {mime} results"
