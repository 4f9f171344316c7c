"""The pure core: decisions and records with no I/O (no GitHub, no database, no model)."""
