"""Reads of follow-up data, split by concept; each returns querysets with their joins already set."""
