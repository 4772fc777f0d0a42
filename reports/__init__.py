"""Reports and exports (later issue)."""
