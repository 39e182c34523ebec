"""/docs in a real browser: Debian's chromium, driven by Playwright, against a real server.

The page must work offline: every request the page makes outside the server is
refused and recorded, and none may be attempted. "Try it out" then uploads a
generated image through the multipart form, with and without an API key.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

import imghash
from tests.helpers import encode, need, photo_like
from tests.servers import api_server

# As root, on a machine with no network: no sandbox, no background connections.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = "k-browser-test"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium (never a browser Playwright downloads), on a fresh temporary profile."""
    chromium = shutil.which("chromium")
    need(chromium is not None, "Debian's chromium is not installed (apt-get install chromium)")
    need(find_spec("playwright") is not None, "playwright is not installed (make setup)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        yield launched
        launched.close()


class Page:
    """The docs page in a fresh browser context, with every outside request refused."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.refused: list[str] = []
        self.served: list[str] = []
        self.context = browser.new_context()
        self.context.route("**/*", self._only_the_server)
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.page.goto(base + "/docs")  # waits for the page's scripts and styles
        assert self.refused == [], f"the page wanted assets from elsewhere: {self.refused}"

    def _only_the_server(self, route: Any) -> None:
        url = route.request.url
        if url == self.base or url.startswith(self.base + "/"):
            self.served.append(url[len(self.base) :])
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def operation(self, method: str, path: str) -> Any:
        block = self.page.locator(
            f'.opblock-{method}:has(.opblock-summary-path[data-path="{path}"])'
        )
        block.locator(".opblock-summary").click()
        block.get_by_role("button", name="Try it out").click()
        block.get_by_label("Request content type").select_option("multipart/form-data")
        return block

    def execute(self, block: Any, path: str) -> Any:
        """Click Execute; the HTTP response the page received."""
        with self.page.expect_response(lambda r: r.url.split("?")[0] == self.base + path) as got:
            block.get_by_role("button", name="Execute").click()
        from playwright.sync_api import expect

        response = got.value
        shown = block.locator(".live-responses-table .response .response-col_status")
        expect(shown.first).to_have_text(str(response.status))
        return response

    def authorize(self, key: str) -> None:
        self.page.locator(".auth-wrapper .btn.authorize").click()
        dialog = self.page.locator(".modal-ux")
        dialog.get_by_label("Value:").fill(key)
        dialog.get_by_role("button", name="Apply credentials").click()
        dialog.get_by_role("button", name="Close").click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(encode(photo_like(120, 90, seed=7)))
    return path


def envelope(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"data", "meta", "status", "message", "success"}, body
    assert (body["status"], body["success"]) == ("ok", True)
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    return body


def test_try_it_out_offline(browser: Any, image: Path) -> None:
    expected = imghash.hash_image(image.read_bytes()).hex()
    with api_server() as (base, _):
        docs = Page(browser, base)
        try:
            block = docs.operation("post", "/v1/hash")
            block.locator('input[type="file"]').set_input_files(image)
            response = docs.execute(block, "/v1/hash")
            assert response.status == 200, response.text()
            assert envelope(response)["data"] == expected
            sent = response.request.post_data_buffer
            assert b'name="image"; filename="photo.png"' in sent
            assert b'name="algorithm"\r\n\r\nall\r\n' in sent  # the enum's default, not "string"

            block = docs.operation("post", "/v1/compare")
            files = block.locator('input[type="file"]')
            files.nth(0).set_input_files(image)
            files.nth(1).set_input_files(image)
            response = docs.execute(block, "/v1/compare")
            assert response.status == 200, response.text()
            data = envelope(response)["data"]
            assert data["hashes"] == {"image1": expected, "image2": expected}
            assert data["likely_same"] is True
        finally:
            docs.close()
    assert docs.refused == []
    assert {"/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"} <= set(docs.served)


def test_try_it_out_with_a_key_through_authorize(browser: Any, image: Path) -> None:
    with api_server({"IMGHASH_API_KEYS": f"another,{KEY}"}) as (base, _):
        docs = Page(browser, base)
        try:
            block = docs.operation("post", "/v1/hash")
            block.locator('input[type="file"]').set_input_files(image)
            refused = docs.execute(block, "/v1/hash")
            assert refused.status == 401
            assert refused.json()["error"]["code"] == "unauthorized"

            docs.authorize(KEY)
            response = docs.execute(block, "/v1/hash")
            assert response.status == 200, response.text()
            assert response.request.headers["x-api-key"] == KEY
            assert envelope(response)["data"] == imghash.hash_image(image.read_bytes()).hex()
        finally:
            docs.close()
    assert docs.refused == []
