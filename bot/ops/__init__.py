"""Operator tools: queries and views for the CLI and the dashboard, and redelivery of failed webhooks."""
