"""/docs works with no internet: Swagger UI's script, style sheet and icon come from the app (core/static), not a
CDN; and the app answers /favicon.ico, which the pages link. None of it needs a database."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from main import create_app


@pytest.fixture(scope="module")
def bare_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a database it never opens: /docs and static files need none."""
    var = tmp_path_factory.mktemp("var")
    settings = Settings(database_url=f"sqlite:///{Path(var) / 'unused.db'}", var_dir=var, _env_file=None)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_docs_load_their_assets_from_the_app_itself_not_from_another_host(bare_client: TestClient) -> None:
    html = bare_client.get("/docs").text
    assert "cdn." not in html and "http://" not in html and "https://" not in html, html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3, assets  # the script, the style sheet, the icon
    for url in assets:
        response = bare_client.get(url)
        assert response.status_code == 200 and response.content, url
    assert bare_client.get("/openapi.json").status_code == 200


def test_the_favicon_answers_and_the_pages_link_it(bare_client: TestClient) -> None:
    icon = bare_client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login = bare_client.get("/login").text
    href = re.search(r'<link rel="icon" href="([^"]+)"', login)
    assert href is not None and bare_client.get(href.group(1)).status_code == 200
