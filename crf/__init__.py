"""Electronic CRFs: forms, edit checks, queries, signatures (next issue)."""
