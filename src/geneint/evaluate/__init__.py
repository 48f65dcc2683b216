"""Stage package: metrics from ``predictions.parquet`` and the split file, and screening
(see docs/architecture.md)."""
