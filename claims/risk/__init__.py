"""Risk of falling back into poverty (防止返贫监测): flags raised from claims and cover gaps, and the county's work on
them (issue 15, domain.md §1.3). The system flags; the county office confirms the monitoring category."""
