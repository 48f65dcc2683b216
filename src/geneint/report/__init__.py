"""Stage package: the summary tables and plots over every sweep point and seed
(see docs/architecture.md)."""
