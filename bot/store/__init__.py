"""Durable state: deliveries, sessions and their interactions, always scoped by installation and repository."""
