"""The risk-model workbench (README.md)."""
