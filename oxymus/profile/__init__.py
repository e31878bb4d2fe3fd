"""One profile on disk: its paths, its config, its lock, why its daemon stopped, and the demo profile."""
