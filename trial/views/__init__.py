"""Server-rendered pages of the trial app."""
