"""Masking of resident ID numbers (first 6 + last 3, domain.md §1.1) for pages, print and logs."""

import logging
import re

# 6 digits, a middle, 3 characters: 18 (and 17, 19, 20, a number mistyped) or 15 (first generation, which the roster
# accepts). Never 16, so household numbers stay readable, nor 11 or 12 (phones, village codes). \d also matches
# full-width digits, which a roster may carry, so the full-width X counts too.
_ID_RE = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{6}|\d{8,11})([\dXxＸｘ]{3})(?![\dA-Za-z])")


def mask_id_number(id_number: str | None) -> str:
    """The first 6 and last 3 characters of whatever the cell held; a value shorter than 10 is all stars."""
    if not id_number:
        return ""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 9) + id_number[-3:]


def mask_name(name: str | None) -> str:
    """A name as a public page may show it: the surname and, for three characters or more, the last character
    (张*, 李*华, 欧**娜). Counts characters, so a rare character outside the BMP is one character."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_ids_in_text(text: str) -> str:
    """Masks every run that looks like an ID number (15 or 17 to 20 digits, the last may be X)."""
    return _ID_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class IdMaskingFilter(logging.Filter):
    """Keeps full ID numbers out of every log line, whatever the caller formatted into it: the message, and the
    traceback and stack a formatter would append (an exception's text may quote a row, e.g. a database error)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # A formatter reuses exc_text when set, so the masked traceback is what every handler prints.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_ids_in_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_ids_in_text(record.stack_info)
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(IdMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "rq.worker"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.handlers and not logger.propagate:
            continue  # `uvicorn --no-access-log` turned it off: it stays off (a line per request costs CPU)
        logger.handlers[:] = []
        logger.propagate = True
    # WeasyPrint narrates every rendering step at INFO; its warnings (fonts, subsetting) still show.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
