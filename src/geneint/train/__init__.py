"""Stage package (see ARCHITECTURE.md)."""
