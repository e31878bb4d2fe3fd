"""The TUI's link to the daemon: the connection, the live queries screens declare, the messages it posts, the capture outbox."""
