"""Household certificates, village booklets and enrolment-notice PDFs, and their verification."""
