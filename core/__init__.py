"""Cross-cutting pieces: settings, database, auth, audit, errors, queue, templating, pdf."""
