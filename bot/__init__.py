"""component-bot: implements a component from its design document and tests, with Claude."""

__version__ = "0.1.0"
