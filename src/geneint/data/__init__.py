"""Stage 1: raw downloads and readers for the published formats, synthetic demo data, splits."""
