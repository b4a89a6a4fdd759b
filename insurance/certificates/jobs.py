"""RQ jobs of the documents: render one document request; only the worker imports this module."""

from core import pdf, queue
from core.db import get_engine
from core.settings import get_settings
from insurance.certificates import pipeline


def render_document(request_id: int) -> dict[str, object]:
    """Renders one requested document (a certificate, a village booklet or a notice) and stores it; see
    pipeline.produce for why a second delivery or a killed worker still gives one document."""
    settings = get_settings()
    engine = get_engine(settings.effective_database_url)
    return pipeline.produce(engine, settings, request_id, pdf.render_pdf_pages, queue.worker_name())
