"""/docs in headless Chromium with every other host unreachable: Swagger UI comes from the app itself and renders
the operations list, as on a county office's network with no internet."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.e2e


# Runs once, on SQLite (the docs read no database): overrides the session fixture's params.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_docs_render_the_operations_with_no_other_host_reachable(page: Page, live_server: str, tmp_path: Path) -> None:
    blocked: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", offline)
    page.goto(f"{live_server}/docs")
    # Swagger UI parses the whole schema (90-odd operations) before it draws: seconds on a loaded 2-core machine.
    expect(page.locator(".opblock-summary-path", has_text="/api/policies").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() > 20
    page.screenshot(path=tmp_path / "docs.png", full_page=False)
    assert blocked == []
