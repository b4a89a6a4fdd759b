"""Pure rules of claims that are not the assessment: who is picked for a sampled review."""
