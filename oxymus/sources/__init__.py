"""The connector contract (what a source of state provides) and how its secrets are found."""
