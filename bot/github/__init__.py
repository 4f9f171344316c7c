"""GitHub access: App and installation clients, and the branch workspace."""
