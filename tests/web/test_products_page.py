"""The catalogue page shows a product's terms, never the seed file's design notes ("domain.md §2: design assumption
(DA) ..."): those are for the file's readers. It does not depend on the database engine: SQLite only."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.models import Role
from tests.builders import login_page, make_user
from tests.cover_builders import HUAYUAN, seed_catalogue
from tests.pagetext import latin_words, visible_text

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_the_catalogue_page_shows_no_design_notes_even_those_seeded_before(
    client: TestClient, session: Session, engine: Engine
) -> None:
    seed_catalogue(session)
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    with engine.begin() as connection:  # a database seeded before the notes moved to `_source_note`
        connection.execute(
            text("UPDATE product_version SET note = :note WHERE product_code = 'th_family'"),
            {
                "note": "扶贫特惠保；政府全额承担保费（DA）。domain.md §2: design assumption (DA), changeable by an "
                "administrator as a new version"
            },
        )
        connection.execute(text("UPDATE product_version SET note = '2026年调价' WHERE product_code = 'agri_sow'"))
    login_page(client, "huayuan")
    response = client.get("/products")
    assert response.status_code == 200
    shown = visible_text(response.text)
    for design in ("domain.md", "DA", "design assumption", "（R）", "R类比"):
        assert design not in shown, design
    assert "2026年调价" in shown  # a note an administrator wrote for users stays
    assert latin_words(response.text) == [], shown
