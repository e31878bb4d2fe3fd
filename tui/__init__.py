"""The Textual terminal UI: a client of the daemon, never a reader of the store.

Layout:
    app.py         OxymusApp, create_app(), run(); the sections switched by keys
    connection.py  DaemonConnection: the one place that talks to the daemon
    messages.py    the past-tense messages it posts to screens
    screens/       one module per section (today.py: key 1, the first screen; inbox.py: key 2),
                   plus modal dialogs (capture.py: `c`, from any section)
    widgets/       reusable pieces (status bar, section bar, capture table, Today's panels)
"""
