"""Every write to follow-up data goes through a named service that owns its transaction."""
