"""Protocols, sites, staff, screening, consent and enrollment."""
