"""REST API of the CRF app."""
