"""Masking of resident ID numbers (first 6 + last 3, domain.md §1.1) for pages, print and logs."""

import logging
import re

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8,11})([\dXx]{3})(?![0-9A-Za-z])")


def mask_id_number(id_number: str | None) -> str:
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
    """Masks every 15- to 18-character run that looks like an ID number."""
    return _ID_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class IdMaskingFilter(logging.Filter):
    """Keeps full ID numbers out of every log line, whatever the caller formatted into it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
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
        logger.handlers[:] = []
        logger.propagate = True
    # WeasyPrint narrates every rendering step at INFO; its warnings (fonts, subsetting) still show.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
