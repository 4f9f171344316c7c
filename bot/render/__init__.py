"""What people read: the status comment, the timeline, and the Jinja2 templates behind them and the prompts."""
