"""The web layer: receives GitHub's webhooks, verifies, records and routes them to the engine."""
