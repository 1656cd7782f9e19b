"""The web UI in a real headless browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI

from rerankd.ui.app import EXAMPLE_DOCUMENTS, EXAMPLE_QUERY, mount_ui
from rerankd.ui.clients import HttpClient
from tests.integration.server_harness import free_port, running_app, running_server

CHROMIUM = os.environ.get("RERANKD_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
)
# Keep the browser off the network: this machine allows loopback only.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions",
]
SCREENSHOT_DIR = Path(os.environ.get("RERANKD_SCREENSHOT_DIR", "")) if os.environ.get(
    "RERANKD_SCREENSHOT_DIR"
) else None


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    context.close()


def test_the_example_ranks_with_one_click(page, reranker, tmp_path):
    expected = reranker.rank(EXAMPLE_QUERY, EXAMPLE_DOCUMENTS)
    with running_server(reranker.backend, ui=True) as server:
        page.goto(server.url + "/ui/")
        assert page.locator("#query textarea").input_value() == EXAMPLE_QUERY
        page.locator("#rank-button").click()
        rows = page.locator("#results .rerankd-row")
        rows.first.wait_for()
        assert rows.count() == 3
        shown = [float(v) for v in page.locator(".rerankd-score-value").all_inner_texts()]
        assert shown == pytest.approx([r.relevance_score for r in expected], abs=1e-4)
        first_document = rows.first.locator("td").nth(3).inner_text()
        assert first_document == expected[0].document
        assert "tokens scored" in page.locator("#stats").inner_text()
        banner = page.locator("#banner").inner_text()
        assert "tiny-test" in banner
        info = reranker.backend.info
        assert f"{info.device}, {info.dtype}" in banner  # the dtype in use is shown
        assert page.locator("#download-json a[download='ranking.json']").count() == 1
        assert page.locator("#download-csv a[download='ranking.csv']").count() == 1
        page.screenshot(path=str(tmp_path / "ui.png"), full_page=True)
        if SCREENSHOT_DIR:
            shutil.copy(tmp_path / "ui.png", SCREENSHOT_DIR / "ui.png")


def test_top_n_and_a_csv_upload(page, reranker, tmp_path):
    csv_file = tmp_path / "docs.csv"
    csv_file.write_text('id,body\n1,"Beijing is the capital of China."\n2,Bananas\n3,Paris\n')
    with running_server(reranker.backend, ui=True) as server:
        page.goto(server.url + "/ui/")
        page.locator("#upload input[type=file]").set_input_files(str(csv_file))
        documents = page.locator("#documents textarea")
        page.wait_for_function(
            "() => document.querySelector('#documents textarea').value.startsWith('Beijing')"
        )
        assert documents.input_value().splitlines() == [
            "Beijing is the capital of China.", "Bananas", "Paris"
        ]
        page.locator("#query textarea").fill("capital of China")
        page.locator("#top-n input").fill("2")
        page.locator("#rank-button").click()
        page.locator("#results .rerankd-row").first.wait_for()
        assert page.locator("#results .rerankd-row").count() == 2


def test_errors_show_in_plain_words(page):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = mount_ui(FastAPI(), HttpClient(dead), api_key=None)
    with running_app(app) as running:
        page.goto(running.url + "/ui/")
        page.locator("#rank-button").click()
        error = page.locator("#error .rerankd-error")
        error.wait_for()
        assert "Cannot reach the rerankd server" in error.inner_text()
        assert "Traceback" not in page.content()


def test_a_wrong_api_key_is_explained(page, reranker):
    with running_server(reranker.backend, api_key="right-key") as server:
        app = mount_ui(FastAPI(), HttpClient(server.url, api_key="wrong-key"), api_key=None)
        with running_app(app) as running:
            page.goto(running.url + "/ui/")
            page.locator("#rank-button").click()
            error = page.locator("#error .rerankd-error")
            error.wait_for()
            assert "API key" in error.inner_text() and "401" in error.inner_text()


def test_with_an_api_key_the_page_asks_for_it(page, reranker):
    with running_server(reranker.backend, ui=True, api_key="ui-key") as server:
        page.goto(server.url + "/ui/")
        page.get_by_label("username").fill("rerankd")
        page.get_by_label("password").fill("ui-key")
        page.get_by_role("button", name="Login").click()
        page.locator("#rank-button").click()
        page.locator("#results .rerankd-row").first.wait_for()
        assert page.locator("#results .rerankd-row").count() == 3


def test_a_chunked_result_shows_its_best_passage(page, reranker):
    long_document = " ".join(f"Sentence {i} about topic {i % 5}." for i in range(300))
    with running_server(reranker.backend, ui=True, max_length=256) as server:
        page.goto(server.url + "/ui/")
        page.locator("#documents textarea").fill(long_document + "\nshort document")
        page.locator("#long-docs").get_by_text("Chunks, best passage").click()
        page.locator("#rank-button").click()
        page.locator("#results .rerankd-row").first.wait_for()
        passage = page.locator("#results .rerankd-passage")
        assert passage.count() == 1
        assert "Best passage" in passage.inner_text()
