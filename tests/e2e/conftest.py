"""Browser fixtures: the real app served by uvicorn on a free port, driven by Debian's headless Chromium."""

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy.engine import Engine

from core.settings import Settings
from main import create_app
from tests import infra

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The one sync Playwright of the session (a thread may run only one)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The system Chromium; Playwright's own browsers are never downloaded."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context, so no cookie leaks from one test to the next."""
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The real app on 127.0.0.1, in a uvicorn thread; yields its base URL."""
    port = infra.free_port()
    config = uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    infra.wait_until(lambda: server.started or not thread.is_alive(), 15, "uvicorn to start")
    if not server.started:
        raise RuntimeError("uvicorn did not start (see the log above)")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def worker(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real `worker.py` on the test's database, Redis and var dir; started after the database is reset."""
    with infra.running_worker(settings, tmp_path / "worker.log") as process:
        yield process
