"""The only module that imports WeasyPrint; only the worker and jobs import this module."""

import logging
import shutil
import subprocess

import weasyprint
from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

# Noto Sans CJK carries the rare GB18030 characters (䶮 U+4DAE, 𠮷 U+20BB7) that WenQuanYi lacks.
CJK_FONT_PACKAGE = "fonts-noto-cjk"
HARFBUZZ_PACKAGE = "libharfbuzz-subset0"
RARE_CHARACTERS = "䶮𠮷堃"

_WARMUP_HTML = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<style>@page {{ size: A4; margin: 20mm }} body {{ font-family: "Noto Sans CJK SC", sans-serif }}</style></head>
<body><p>扶贫特惠保 {RARE_CHARACTERS} ¥1,234.56</p></body></html>"""


def harfbuzz_subset_active() -> bool:
    """The same test WeasyPrint's Font.subset() makes before it falls back to fontTools (44x slower)."""
    return bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def missing_rare_characters() -> str:
    """The rare characters no installed font covers (fontconfig's view), or '' when all print."""
    if shutil.which("fc-list") is None:
        return RARE_CHARACTERS
    missing = ""
    for char in RARE_CHARACTERS:
        found = subprocess.run(
            ["fc-list", f":charset={ord(char):x}", "family"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not found:
            missing += char
    return missing


def readiness_problems() -> list[str]:
    """Why this process cannot render certificates properly, each naming the Debian package that fixes it."""
    problems = []
    if not harfbuzz_subset_active():
        problems.append(
            f"WeasyPrint 未启用 HarfBuzz 字体子集化（HarfBuzz subsetting is not active）: "
            f"apt-get install {HARFBUZZ_PACKAGE}"
        )
    missing = missing_rare_characters()
    if missing:
        problems.append(f"没有字体包含生僻字 {missing}（no CJK font covers them）: apt-get install {CJK_FONT_PACKAGE}")
    return problems


class _SubsetWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "HarfBuzz" in message or "subset" in message:
            self.messages.append(message)


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf()


def render_pdf_pages(html: str, base_url: str | None = None) -> tuple[bytes, int]:
    """The PDF and its number of pages (laid out once)."""
    document = weasyprint.HTML(string=html, base_url=base_url).render()
    return document.write_pdf(), len(document.pages)


def warm_up() -> list[str]:
    """Renders one small page so fonts are loaded before the first job; returns any subsetting warnings."""
    catcher = _SubsetWarnings()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(catcher)
    try:
        render_pdf(_WARMUP_HTML)
    finally:
        logger.removeHandler(catcher)
    return catcher.messages
