"""The person's settings in config.toml, changed from a client as actions (the `ui.theme` kind)."""
