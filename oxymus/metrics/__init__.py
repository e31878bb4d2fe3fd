"""Compounding metrics: per month, from the audit log and the stored actions, runs, captures and records."""
