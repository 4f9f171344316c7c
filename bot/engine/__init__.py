"""The engine: runs sessions step by step, publishes their state on GitHub, waits out outages."""
