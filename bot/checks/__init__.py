"""Check runs and job logs → a compact test report for the agent."""
