"""The Textual terminal UI: a client of the daemon, never a reader of the store.

Layout:
    app.py         OxymusApp, create_app(), run(); the sections switched by keys
    link/          the one way to the daemon: connection.py (DaemonConnection: connect, hello,
                   subscribe, reconnect, the inbox), live.py (the live queries and commands
                   screens declare), actions.py (the waiting count, the pause), outbox.py (the
                   durable capture outbox), messages.py (the past-tense messages it posts)
    screens/       one module per section (today.py: key 1, the first screen; inbox.py: key 2;
                   memory.py: key 3; plans.py: key 4; approvals.py: key 5; activity.py: key 6),
                   screens pushed over one (record.py: a memory record and its history), and
                   modal dialogs (capture.py: `c`, from any section; record_form.py: edit a
                   record or triage a capture into one; line_input.py: one line, e.g. a next
                   action or a snooze; payload_edit.py: edit an action's payload, then approve;
                   confirm.py), and the morning review (review.py: `R`; its steps in
                   review_steps.py, review_queue.py, review_top.py; its requests in review_link.py)
    widgets/       reusable pieces (status bar with the waiting count and the pause, section bar,
                   capture table, Today's panels, memory results and history tables, the plan's
                   next actions, the approval queue and preview, the audit log, a cycling choice)
"""
