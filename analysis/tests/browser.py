"""Test helper: render an HTML page in headless Chromium and say what a reader would see.

Checking the HTML text cannot tell whether a figure shows: a data: URI can be
truncated, an <img> can point to a file that is not there, a script can throw.
render_in_chromium() loads the page in a real browser and reports, after the
load event, how many images there are and how many decoded, how many inline
SVGs, how much text, how tall the page is, which script errors happened, and
whether a screenshot of it is blank.

    from browser import chromium_or_skip, render_in_chromium

    def test_report_shows_its_figures(tmp_path: Path) -> None:
        chromium_or_skip()
        page = render_in_chromium(write_report(tmp_path), tmp_path)
        assert page.images > 0 and page.images_loaded == page.images
        assert not page.errors and not page.blank

The page is copied into tmp_dir before it is rendered, so anything it refers
to by a relative path is missing: a self-contained page renders the same.
Chromium runs as `--headless=new --no-sandbox` (root needs --no-sandbox) with
a profile of its own in tmp_dir, so tests may run side by side.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SUMMARY_ID = "ipcatlas-browser-summary"
WINDOW_SIZE = (1200, 2000)
TIMEOUT_SECONDS = 60

# Goes first in <head>: collects uncaught script errors from the page's own scripts.
_ERROR_CATCHER = """<script>
window.__ipcatlasErrors = [];
window.addEventListener("error", function (e) {
  if (e.message) window.__ipcatlasErrors.push(e.message);
});
</script>"""

# Goes last: after the load event, writes what the page shows into a hidden element as JSON.
_SUMMARY_WRITER = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var body = document.body;
  var summary = {
    images: images.length,
    images_loaded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    svgs: document.querySelectorAll("svg").length,
    text_chars: body ? body.innerText.trim().length : 0,
    body_height: body ? body.scrollHeight : 0,
    errors: window.__ipcatlasErrors || []
  };
  var out = document.createElement("pre");
  out.id = "%s";
  out.hidden = true;
  out.textContent = JSON.stringify(summary);
  document.documentElement.appendChild(out);
});
</script>""" % SUMMARY_ID


@dataclass
class PageRender:
    """What Chromium made of one page."""
    images: int          # <img> elements
    images_loaded: int   # of those, decoded (complete and naturalWidth > 0)
    svgs: int            # <svg> elements (inline figures)
    text_chars: int      # characters of visible text in <body>
    body_height: int     # CSS pixels
    errors: list[str]    # uncaught script errors
    blank: bool          # the screenshot is one colour
    screenshot: Path     # PNG of the first WINDOW_SIZE pixels
    dom: str             # the DOM after the load event, serialised


def find_chromium() -> str | None:
    """The chromium binary: on PATH, else Debian's /usr/bin/chromium; None if neither."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return None


def chromium_or_skip() -> str:
    """The chromium binary, or skip the test; with IPCATLAS_REQUIRE_BROWSER=1 (ci/test) fail instead."""
    binary = find_chromium()
    if binary is None:
        reason = "chromium not found (run ci/setup, or apt-get install chromium)"
        if os.environ.get("IPCATLAS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; IPCATLAS_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    return binary


def instrument(page: str) -> str:
    """The page with the error catcher at the start of <head> and the summary writer at the end of <body>."""
    # After <head>, else <html>, else <!DOCTYPE>: never before the doctype (quirks mode).
    for opening in (r"<head[\s>][^>]*>?", r"<html[\s>][^>]*>?", r"<!doctype[^>]*>"):
        found = re.search(opening, page, re.IGNORECASE)
        if found:
            page = page[:found.end()] + _ERROR_CATCHER + page[found.end():]
            break
    else:
        page = _ERROR_CATCHER + page
    body_end = page.lower().rfind("</body>")
    if body_end >= 0:
        return page[:body_end] + _SUMMARY_WRITER + page[body_end:]
    return page + _SUMMARY_WRITER


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    if proc.returncode != 0:
        raise AssertionError(f"chromium exited with {proc.returncode}: {' '.join(command)}\n{proc.stderr[-2000:]}")
    return proc


def _summary(dom: str) -> dict[str, Any]:
    match = re.search(rf'<pre id="{SUMMARY_ID}"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    if match is None:
        raise AssertionError(f"the page's load event never fired (no #{SUMMARY_ID} in the DOM):\n{dom[-2000:]}")
    summary: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return summary


def is_blank(png: Path) -> bool:
    """Whether every pixel of the image has the same colour."""
    import matplotlib.image  # here, not at the top: importing it costs time every test module would pay
    pixels = matplotlib.image.imread(str(png))
    return bool((pixels == pixels[0, 0]).all())


def render_in_chromium(html_path: Path, tmp_dir: Path) -> PageRender:
    """Load a copy of the page in headless Chromium; what it shows after the load event, and a screenshot."""
    binary = chromium_or_skip()
    work = tmp_dir / "chromium"
    work.mkdir(parents=True, exist_ok=True)
    page = work / html_path.name
    page.write_text(instrument(html_path.read_text(encoding="utf-8")), encoding="utf-8")
    url = page.resolve().as_uri()

    dom = _chromium(binary, work / "profile", "--dump-dom", "--virtual-time-budget=10000", url).stdout
    summary = _summary(dom)

    screenshot = work / (html_path.stem + ".png")
    _chromium(binary, work / "profile", f"--screenshot={screenshot}",
              f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}", "--virtual-time-budget=10000", url)
    if not screenshot.exists():
        raise AssertionError(f"chromium wrote no screenshot {screenshot}")

    return PageRender(images=summary["images"], images_loaded=summary["images_loaded"], svgs=summary["svgs"],
                      text_chars=summary["text_chars"], body_height=summary["body_height"],
                      errors=list(summary["errors"]), blank=is_blank(screenshot), screenshot=screenshot, dom=dom)
