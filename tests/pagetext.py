"""What a person reads on a page, for tests that check it is Chinese only."""

import re

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def visible_text(html: str) -> str:
    """The text of the page's main part (the header shows the test user's name, built from a role code): no style,
    script or tags."""
    found = re.search(r"<main>(.*)</main>", html, flags=re.S)
    html = found.group(1) if found else html
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def latin_words(html: str) -> list[str]:
    """English words (or raw codes) a person would see on the page."""
    return LATIN_WORD.findall(visible_text(html))
