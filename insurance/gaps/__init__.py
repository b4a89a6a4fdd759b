"""The poverty-alleviation office's coverage gaps: figures per division for any date, the uncovered and the
not-eligible members with a reason each, their exports and page. Reads the cohorts insurance.cover.counts keeps."""
