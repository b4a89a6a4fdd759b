"""configure_logging routes uvicorn's loggers through the ID-masking handler, and leaves the access log off when
`uvicorn --no-access-log` turned it off (a line per request costs the busy API its CPU)."""

import logging
from collections.abc import Iterator

import pytest

from core.masking import configure_logging

NAMES = ("uvicorn", "uvicorn.error", "uvicorn.access", "rq.worker")


@pytest.fixture(autouse=True)
def _restore_loggers() -> Iterator[None]:
    """The process's logging as it was: other tests log too."""
    root = logging.getLogger()
    root_handlers, root_level = root.handlers[:], root.level
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in NAMES}
    yield
    root.handlers[:] = root_handlers
    root.setLevel(root_level)
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate


def test_the_access_log_uvicorn_configured_goes_through_the_masking_handler() -> None:
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = [logging.StreamHandler()]
    access.propagate = False

    configure_logging("INFO")

    assert access.handlers == [] and access.propagate and access.hasHandlers()


def test_an_access_log_turned_off_by_no_access_log_stays_off() -> None:
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False  # what `uvicorn --no-access-log` leaves

    configure_logging("INFO")

    assert not access.hasHandlers()
