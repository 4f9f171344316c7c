"""Telemetry: structured, redacted logs and Prometheus metrics."""
