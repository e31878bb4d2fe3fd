"""The Textual terminal UI: a client of the daemon, never a reader of the store.

Layout:
    app.py         OxymusApp, create_app(), run(); the sections switched by keys
    connection.py  DaemonConnection: the one place that talks to the daemon
    messages.py    the past-tense messages it posts to screens
    screens/       one module per section (inbox.py, ...), plus modal dialogs
    widgets/       reusable pieces (status bar, section bar, capture table)
"""
