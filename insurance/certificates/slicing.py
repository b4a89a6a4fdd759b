"""A household's own pages, cut from its village's booklet as stored.

Why slice in the request rather than print each household alone: a booklet is rendered once per village in a worker
(fonts subset once, ~50 ms a page), and storing every household's certificate a second time as its own PDF would
double the store (each one-page PDF carries its own ~150-300 KB font subset) for files that are rarely asked for.
Cutting pages out of the stored PDF renders no HTML: pypdf reads the booklet's named destinations (each
certificate's `id`, see `templates/print/_certificate.html`) and copies the household's pages, about 0.1 s for a
300-page booklet on this machine class, so it is cheap enough for a click and stays out of WeasyPrint.
"""

import io
from typing import Any

import pypdf
from pypdf.generic import ArrayObject, DictionaryObject

ANCHOR_PREFIX = "certificate-"
SIGN_OFF_ANCHOR = "sign-off"  # the booklet's last section, after every certificate


def certificate_anchor(certificate_no: str) -> str:
    """The `id` of a certificate's section in print, and so its named destination in the PDF."""
    return f"{ANCHOR_PREFIX}{certificate_no}"


class AnchorMissing(LookupError):
    """The booklet has no destination for the certificate (printed before anchors were, or not in it)."""


def _names(tree: Any) -> list[tuple[str, Any]]:
    """The (name, destination) pairs of a PDF name tree, flat or with kids."""
    tree = tree.get_object()
    pairs: list[tuple[str, Any]] = []
    flat = tree.get("/Names")
    if flat is not None:
        flat = flat.get_object()
        pairs += [(str(flat[i]), flat[i + 1]) for i in range(0, len(flat) - 1, 2)]
    for kid in tree.get("/Kids", []):
        pairs += _names(kid)
    return pairs


def _page_ref(destination: Any) -> int | None:
    destination = destination.get_object()
    if isinstance(destination, DictionaryObject):  # a {/D [page ...]} dictionary
        destination = destination.get("/D", ArrayObject()).get_object()
    if isinstance(destination, ArrayObject) and destination:
        return destination[0].idnum if hasattr(destination[0], "idnum") else None
    return None


def household_pages(document: bytes, anchor: str) -> bytes:
    """The pages from the certificate's destination up to the next certificate (or the sign-off sheet), as a PDF."""
    reader = pypdf.PdfReader(io.BytesIO(document))
    catalog = reader.trailer["/Root"].get_object()
    tree = catalog.get("/Names", DictionaryObject()).get_object().get("/Dests")
    if tree is None:
        raise AnchorMissing(anchor)
    page_of = {page.indirect_reference.idnum: index for index, page in enumerate(reader.pages)}
    starts: dict[str, int] = {}
    for name, destination in _names(tree):
        if name.startswith(ANCHOR_PREFIX) or name == SIGN_OFF_ANCHOR:
            reference = _page_ref(destination)
            if reference in page_of:
                starts[name] = page_of[reference]
    if anchor not in starts:
        raise AnchorMissing(anchor)
    first = starts[anchor]
    last = min((page for page in starts.values() if page > first), default=len(reader.pages)) - 1
    writer = pypdf.PdfWriter()
    for index in range(first, last + 1):
        writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
