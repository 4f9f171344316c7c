"""Alembic migrations, shipped inside the distribution so `component-bot migrate` finds them anywhere."""
