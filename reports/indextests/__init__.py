"""The index tests of a diagnostic-accuracy study: model outputs imported per vertebra from CSV (versioned),
their Grad-CAM heatmaps, and the analysis lock that freezes them. See reports/README.md, "Model outputs"."""
