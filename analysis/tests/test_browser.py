"""The headless-browser helper (browser.py) can fail: a broken image, a blank
page and a script error are each seen, and a good figure is not mistaken for one."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

import browser  # noqa: E402
from browser import chromium_or_skip, instrument, render_in_chromium  # noqa: E402


def png_data_uri() -> str:
    """A small matplotlib figure as a data: URI."""
    figure, axes = plt.subplots(figsize=(3, 2), dpi=50)
    axes.plot([1, 2, 3], [1, 4, 9])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>t</title></head>"
                    f"<body>{body}</body></html>\n", encoding="utf-8")
    return path


def test_a_good_inline_figure_loads_and_shows(tmp_path: Path) -> None:
    page = render_in_chromium(write(tmp_path, "good.html", f"<h1>Latency</h1><img src='{png_data_uri()}'>"),
                              tmp_path)
    assert page.images == 1 and page.images_loaded == 1
    assert page.text_chars == len("Latency")
    assert page.body_height > 0
    assert page.errors == []
    assert not page.blank
    assert page.screenshot.stat().st_size > 0


def test_a_broken_image_is_counted_as_not_loaded(tmp_path: Path) -> None:
    body = "<p>text</p><img src='data:image/png;base64,AAAA'><svg width='10' height='10'></svg>"
    page = render_in_chromium(write(tmp_path, "broken.html", body), tmp_path)
    assert page.images == 1 and page.images_loaded == 0
    assert page.svgs == 1


def test_an_empty_page_is_blank_and_a_script_error_is_reported(tmp_path: Path) -> None:
    page = render_in_chromium(write(tmp_path, "empty.html", "<script>undefinedFunction();</script>"), tmp_path)
    assert page.blank
    assert page.images == 0 and page.text_chars == 0
    assert len(page.errors) == 1 and "undefinedFunction" in page.errors[0]


def test_instrumenting_keeps_the_doctype_first() -> None:
    assert instrument("<!DOCTYPE html><p>x</p>").startswith("<!DOCTYPE html><script>")
    assert instrument("<html lang='en'><header>h</header></html>").startswith("<html lang='en'><script>")
    assert instrument("<p>x</p>").endswith("</script>")


def test_without_chromium_ci_fails_where_others_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    monkeypatch.delenv("IPCATLAS_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium_or_skip()
    monkeypatch.setenv("IPCATLAS_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="IPCATLAS_REQUIRE_BROWSER=1"):
        chromium_or_skip()
