"""RQ jobs of the cross-cutting package; only the worker imports this module (it is the one place, with the
worker, that loads WeasyPrint). Jobs take ids, never objects."""

from core import documents, pdf, queue
from core.db import get_engine
from core.settings import get_settings


def render_document(request_id: int) -> dict[str, object]:
    """Renders one requested document of any registered kind and stores it (the worker has imported the domains,
    which registered their kinds); see documents.produce for why a second delivery or a killed worker still gives
    one document."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    return documents.produce(engine, settings, request_id, pdf.render_pdf_pages, queue.worker_name())
