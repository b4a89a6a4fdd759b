"""The poverty-alleviation office's dashboards: coverage by child division, claims paid by type and month, overdue
claims and open risk flags, for the province and each county. Read only; every figure has its API endpoint."""
