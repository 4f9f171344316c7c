"""Jinja2 templates (comments, PR bodies, prompts) and the files users copy (workflow, issue form)."""
