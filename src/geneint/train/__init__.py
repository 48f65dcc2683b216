"""Stage package: pretraining, training of the neural models, fitting of the estimators, and
``predictions.parquet`` (see docs/architecture.md)."""
