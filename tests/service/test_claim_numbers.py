"""Claim numbers per county and year: the first filing creates the counter, and two first filings at once get two
numbers (the second waits on the first's row) instead of one failing on the counter's key."""

import threading

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.filing import next_claim_no
from core.db import for_writing


def test_numbers_of_a_county_and_year_count_up_from_one(session: Session) -> None:
    numbers = [next_claim_no(session, 2026, "433124") for _ in range(3)]
    other = next_claim_no(session, 2026, "433101")
    assert numbers == ["LP2026433124000001", "LP2026433124000002", "LP2026433124000003"]
    assert other == "LP2026433101000001"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_first_filings_at_once_get_two_numbers(engine: Engine) -> None:
    first_has_number, found, errors = threading.Event(), [], []

    def take(hold: bool) -> None:
        try:
            with Session(for_writing(engine)) as session:
                found.append(next_claim_no(session, 2027, "433124"))
                if hold:
                    first_has_number.set()
                    threading.Event().wait(0.3)  # the other filing waits on this row meanwhile
                session.commit()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    first = threading.Thread(target=take, args=(True,))
    first.start()
    first_has_number.wait(5)
    second = threading.Thread(target=take, args=(False,))
    second.start()
    first.join(10)
    second.join(10)
    assert errors == []
    assert sorted(found) == ["LP2027433124000001", "LP2027433124000002"]
