"""The widgets as a user sees them: a real, headless Chromium on Voila, JupyterLab 4 and
Notebook 7, over a dataset of 10,000 rows whose colours are known (widgets_notebook.py).

Checked in each: the gallery's tiles decode to the right pixels, pages flip (timed), a
click on a tile opens the full image, a click on a histogram bar narrows the gallery and
"Clear selection" restores it, a file named like markup shows as text and runs nothing (no
dialog, no JavaScript error), and the dataset browser and job view draw. Timings are
printed (run with -s to see them) and asserted: first page < 1 s, a page flip < 300 ms.
"""

from __future__ import annotations

import os
import re
import statistics
from pathlib import Path

import pytest
from widgets_notebook import COLOUR_NAMES, EVIL, NAME, PAGE_SIZE, PALETTE, ROWS, colour_of

try:
    from playwright.sync_api import Page, expect
except ImportError:
    if os.environ.get("E2E_REQUIRED") == "1":
        raise
    pytest.skip("the 'playwright' Python package is not installed", allow_module_level=True)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

FIRST_PAGE_LIMIT_MS = 1000
FLIP_LIMIT_MS = 300
FLIPS = 6
TOLERANCE = 12  # the thumbnails are JPEGs: their solid centre comes back within this

GRID = ".accnb-tiles"
NEXT = "button.accnb-gallery-next"
STATUS = ".accnb-gallery-status"

# For each <img>: the colour of its centre pixel, read back through a canvas; null when
# the image did not decode. Proves the pixels arrived, not only that an <img> exists.
CENTRE_RGB = """imgs => imgs.map(img => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    if (!c.width) return null;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    return [d[0], d[1], d[2]];
})"""

# Click `next` and time until the grid says the new page's images have all decoded.
TIME_FLIP = """async ([grid, next]) => {
    const el = document.querySelector(grid);
    const old = el.dataset.ready;
    const done = new Promise((resolve) => {
        const seen = new MutationObserver(() => {
            if (el.dataset.ready && el.dataset.ready !== old) { seen.disconnect(); resolve(); }
        });
        seen.observe(el, { attributes: true, attributeFilter: ['data-ready'] });
    });
    const t0 = performance.now();
    document.querySelector(next).click();
    await done;
    return performance.now() - t0;
}"""

PAGE_DECODED = f"""() => {{
    const el = document.querySelector('{GRID}');
    if (!el || !el.dataset.ready) return false;
    const imgs = [...el.querySelectorAll('img')];
    return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}}"""


def close(rgb, expected) -> bool:
    return rgb is not None and all(
        abs(a - b) <= TOLERANCE for a, b in zip(rgb, expected, strict=True)
    )


def page_colours(page: Page) -> list:
    return page.locator(f"{GRID} img").evaluate_all(CENTRE_RGB)


def expect_page(page: Page, ks: list[int]) -> None:
    """The grid shows rows k in `ks`, each tile of its colour."""
    page.wait_for_function(PAGE_DECODED)
    got = page_colours(page)
    assert len(got) == len(ks)
    wrong = [(k, rgb) for k, rgb in zip(ks, got, strict=True) if not close(rgb, colour_of(k))]
    assert not wrong, f"tiles of the wrong colour (k, rgb): {wrong[:5]}"


def check_gallery(page: Page, prefix: str, artifacts: Path) -> dict:
    """Pixels, paging (timed), the full image, the histogram link and the markup file name."""
    grid = page.locator(GRID)
    expect(grid).to_have_count(1, timeout=120_000)
    expect(page.locator(STATUS)).to_have_text(
        f"Page 1 of {-(-ROWS // PAGE_SIZE)} · 1–24 of {ROWS} rows"
    )
    expect_page(page, list(range(0, 2 * PAGE_SIZE, 2)))  # slice 0: k = 0, 2, 4, ...
    page.locator(".accnb-gallery").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{prefix}-gallery.png"))

    # markup in a file name is text: the caption reads it, no <img src=x> exists
    caption = page.locator(f"{GRID} .accnb-tile[data-index='2'] figcaption")
    expect(caption).to_have_text(EVIL)
    assert page.locator("img[src='x']").count() == 0

    flips = [page.evaluate(TIME_FLIP, [GRID, NEXT]) for _ in range(FLIPS)]
    expect(page.locator(STATUS)).to_contain_text(f"Page {FLIPS + 1} of")
    first = FLIPS * PAGE_SIZE
    expect_page(page, [2 * i for i in range(first, first + PAGE_SIZE)])

    # a tile opens its full image (320x240 PNG) with the row
    page.locator(f"{GRID} .accnb-tile[data-index='1']").click()
    full = page.locator("img.accnb-gallery-full")
    page.wait_for_function(
        "() => { const i = document.querySelector('img.accnb-gallery-full');"
        " return i && i.complete && i.naturalWidth === 320; }"
    )
    k = 2 * (first + 1)
    assert full.evaluate_all(CENTRE_RGB) == [list(colour_of(k))]
    expect(page.locator(".accnb-gallery-detail")).to_contain_text(f"img{k:05d}.jpg")
    expect(page.locator(".accnb-gallery-values")).to_contain_text(COLOUR_NAMES[k % 6])
    page.locator(".accnb-gallery-detail").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{prefix}-full-image.png"))
    page.locator("button.accnb-gallery-close").click()
    expect(page.locator(".accnb-gallery-detail")).to_be_hidden()

    # a histogram bar narrows the gallery to its rows; clearing restores all
    green = sum(1 for k in range(ROWS) if COLOUR_NAMES[k % 6] == "green")
    page.locator(".accnb-bar", has_text="green").click()
    expect(page.locator(STATUS)).to_have_text(
        f"Page 1 of {-(-green // PAGE_SIZE)} · 1–24 of {green} rows ({ROWS} before filters)"
    )
    page.wait_for_function(PAGE_DECODED)
    assert all(close(rgb, PALETTE["green"]) for rgb in page_colours(page))
    page.locator(".accnb-histogram").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{prefix}-histogram-selected.png"))
    page.locator("button.accnb-hist-clear").click()
    expect(page.locator(STATUS)).to_have_text(
        f"Page 1 of {-(-ROWS // PAGE_SIZE)} · 1–24 of {ROWS} rows"
    )

    # the markup-named row opens with its name as text
    page.locator(f"{GRID} .accnb-tile[data-index='2']").click()
    expect(page.locator(".accnb-gallery-detail b")).to_have_text(EVIL)
    return {"flips_ms": flips}


def check_browser_and_job(page: Page, prefix: str, artifacts: Path) -> None:
    values = page.locator(".accnb-browser-values")
    expect(values.locator("tbody tr")).to_have_count(5)
    expect(values).to_contain_text(EVIL)
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('.accnb-browser-values img')];"
        " return imgs.length === 10 && imgs.every(i => i.complete && i.naturalWidth > 0); }"
    )
    values.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{prefix}-dataset-browser.png"))
    job = page.locator(".accnb-job")
    expect(job.locator(".accnb-job-graph svg")).to_have_count(1)
    expect(job.locator(".accnb-job-facts")).to_contain_text("built because")
    job.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{prefix}-job-view.png"))


def report(where: str, timings: dict) -> None:
    flips = timings["flips_ms"]
    line = f"{where}: page flips {', '.join(f'{t:.0f}' for t in flips)} ms (median {statistics.median(flips):.0f})"
    if "first_page_ms" in timings:
        line += f"; first page {timings['first_page_ms']:.0f} ms"
    print(f"\n[timings] {line}")
    assert max(flips) < FLIP_LIMIT_MS, f"a page flip took {max(flips):.0f} ms"
    assert timings.get("first_page_ms", 0) < FIRST_PAGE_LIMIT_MS


# Notebook 7.6 throws this from its own bundle whenever a cell runs, even in a notebook
# holding only `1+1` and with no settings files: not ours, so it alone is let through there.
NOTEBOOK7_OWN_ERROR = "Cannot read properties of undefined (reading 'schema')"


def assert_clean(page_errors: list[str], page_dialogs: list[str], allowed: str = "") -> None:
    assert not page_dialogs, f"dialogs opened: {page_dialogs}"
    errors = [
        e
        for e in page_errors
        if not (allowed and e.startswith(allowed) and "/static/notebook/" in e)
    ]
    assert not errors, f"uncaught JavaScript errors: {errors}"


def test_voila(voila_server, page, page_errors, page_dialogs, artifacts_dir):
    page.goto(f"{voila_server}/voila/render/{NAME}", timeout=120_000)
    timings = check_gallery(page, "voila", artifacts_dir)
    check_browser_and_job(page, "voila", artifacts_dir)
    assert_clean(page_errors, page_dialogs)
    report("voila", timings)


def run_all(page: Page, tries: int = 3) -> None:
    """Run All, and again while no cell has started: under load, Notebook 7's menu can work
    before its kernel session does, and a first Run All then ran nothing."""
    first_prompt = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").first
    for _ in range(tries):
        page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        try:
            expect(first_prompt).to_contain_text(re.compile(r"\[[0-9*]+\]"), timeout=30_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"Run All started no cell in {tries} tries")


def time_first_page(page: Page) -> float:
    """Run the gallery cell again; ms from Shift+Enter to its first page decoded."""
    page.evaluate(f"() => document.querySelectorAll('{GRID}').forEach(g => g.dataset.old = '1')")
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(2)
    cell.locator(".jp-InputArea-editor").click()
    page.evaluate("() => { window.accnbStarted = performance.now(); }")
    page.keyboard.press("Shift+Enter")
    return page.evaluate(
        f"""() => new Promise((resolve) => {{
            (function poll() {{
                const el = document.querySelector('{GRID}:not([data-old])');
                const imgs = el ? [...el.querySelectorAll('img')] : [];
                if (el && el.dataset.ready && imgs.length && imgs.every(i => i.complete && i.naturalWidth)) {{
                    resolve(performance.now() - window.accnbStarted);
                }} else {{
                    setTimeout(poll, 5);
                }}
            }})();
        }})"""
    )


def test_jupyterlab(lab_server, page, page_errors, page_dialogs, artifacts_dir):
    page.goto(f"{lab_server}/lab/tree/{NAME}", timeout=120_000)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=120_000)
    run_all(page)
    timings = check_gallery(page, "lab", artifacts_dir)
    check_browser_and_job(page, "lab", artifacts_dir)
    timings["first_page_ms"] = time_first_page(page)
    page.screenshot(path=str(artifacts_dir / "lab-rerun.png"))
    assert_clean(page_errors, page_dialogs)
    report("jupyterlab", timings)


def test_notebook7(notebook_server, page, page_errors, page_dialogs, artifacts_dir):
    page.goto(f"{notebook_server}/notebooks/{NAME}", timeout=120_000)
    # the kernel indicator reads idle only once the kernel has started
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
        1, timeout=120_000
    )
    run_all(page)
    timings = check_gallery(page, "notebook7", artifacts_dir)
    check_browser_and_job(page, "notebook7", artifacts_dir)
    assert_clean(page_errors, page_dialogs, allowed=NOTEBOOK7_OWN_ERROR)
    report("notebook 7", timings)


def test_voila_shows_the_standard_methods_output(
    voila_server, page, page_errors, page_dialogs, artifacts_dir
):
    """notebooks/04-widgets.ipynb: the demo photos through import_images and thumbnailer."""
    page.goto(f"{voila_server}/voila/render/04-widgets.ipynb", timeout=120_000)
    expect(page.locator(GRID)).to_have_count(1, timeout=120_000)
    page.wait_for_function(PAGE_DECODED)
    assert page.locator(f"{GRID} img").count() == 12
    expect(page.locator(".accnb-bar")).to_have_count(15)  # the demo's 15 shapes
    page.locator(".accnb-bar", has_text="1600×1200").click()
    expect(page.locator(STATUS)).to_have_text("Page 1 of 1 · 1–2 of 2 rows (17 before filters)")
    page.wait_for_function(PAGE_DECODED)
    page.locator(f"{GRID} .accnb-tile[data-index='0']").click()
    page.wait_for_function(
        "() => { const i = document.querySelector('img.accnb-gallery-full');"
        " return i && i.complete && i.naturalWidth === 1600; }"
    )
    page.screenshot(path=str(artifacts_dir / "voila-demo.png"), full_page=True)
    assert_clean(page_errors, page_dialogs)
