"""Claims: filing, documents, eligibility use, adjudication, status, decisions, payments, notices."""
