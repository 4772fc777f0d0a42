"""The statistics of the risk-model workbench: pure functions of arrays and frames, no Django."""
