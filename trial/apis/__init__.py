"""REST API of the trial app (DRF)."""
