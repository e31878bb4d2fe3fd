"""Canonical memory: the record models, search and tiers, and the `memory.update` action."""
