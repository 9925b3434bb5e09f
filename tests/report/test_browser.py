"""The report in a real browser: Debian's Chromium, headless, driven by Playwright.

`make test` installs Chromium (Debian's package) when it is missing; elsewhere these tests skip.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from packerpy.report import gather, html
from tests.helpers import settings_for

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (make test installs it)")
# Flags from the machine's notes: without the background-networking ones Chromium tries to reach
# Google at start, which this test would count as the page's own requests.
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_rows_and_badges_match_the_estate_and_no_request_leaves_the_page(
    aws: str, estate: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "estate.html"
    page_file.write_text(html.render(gather.gather(estate["project"], settings_for(aws))))
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            rows = page.eval_on_selector_all(
                'table[data-image="web"] tbody tr',
                "rows => rows.map(r => [r.dataset.version,"
                " [...r.querySelectorAll('[data-channel]')].map(b => b.dataset.channel)])",
            )
            marks = page.locator("svg .mark-version").count()
            promotions = page.locator("svg .mark-promotion").count()
            page.screenshot(path=str(tmp_path / "estate.png"), full_page=True)
        finally:
            browser.close()
    assert rows == [["2.0.0", []], ["1.1.0", ["dev"]], ["1.0.0", ["prod"]]]
    assert marks == 3
    assert promotions == 4
    assert requests == [page_file.as_uri()]
