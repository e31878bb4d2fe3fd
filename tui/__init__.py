"""The Textual terminal UI: a client of the daemon, never a reader of the store.

Layout:
    app.py         OxymusApp, create_app(), run(); the sections switched by keys, `?` for the keys
    theme.py       `[ui] theme` from config.toml at start; a theme picked in the palette saved there
    commands.py    the command palette (ctrl+p): every command by name, a Textual Provider
    toasts.py      where notifications show: away from the focused list's cursor row, never over it
    outside/       what leaves the TUI for another program on a key: a URL in the browser, a shell
    link/          the one way to the daemon: connection.py (DaemonConnection: connect, hello,
                   subscribe, reconnect, the inbox), live.py (the live queries and commands
                   screens declare), queries.py (the sections' standing queries, declared at
                   start so that a screen is imported only when first shown), actions.py (the waiting count, the pause), outbox.py (the
                   durable capture outbox), messages.py (the past-tense messages it posts)
    screens/       one module per section (today.py: key 1, the first screen, with today_detail.py for
                   an event's or a repository's details; inbox.py: key 2;
                   memory.py: key 3; plans.py: key 4; approvals.py: key 5; activity.py: key 6),
                   screens pushed over one (record.py: a memory record and its history), and
                   modal dialogs (capture.py: `c`, from any section; record_form.py: edit a
                   record or triage a capture into one; line_input.py: one line, e.g. a next
                   action or a snooze; payload_edit.py: edit an action's payload, then approve;
                   confirm.py; help.py: `?`, the keys of the screen in front, read from its bindings), and the morning
                   review (review.py: `R`; its steps in review_steps.py, review_queue.py,
                   review_top.py; its requests in review_link.py), and the weekly review (weekly.py:
                   `W`; its steps in weekly_steps.py; its requests in weekly_link.py)
    widgets/       reusable pieces (nav_table.py: the one list every table is, j/k/g/G/Home/End;
                   field_input.py: search and filter boxes, Escape leaves, digits pass until chosen;
                   status bar with the waiting count, the pause and an agent drafting, section bar,
                   capture table, Today's panels (lines fitted to a width, rows the cursor acts on), memory results and history tables, the plan's
                   next actions, the approval queue and preview, the audit log, a cycling choice, and
                   columns.py: how a table's columns share its width, computed on every resize)
"""
