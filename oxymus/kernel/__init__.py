"""Small chores written once: atomic files, the git runner, diffs, text and TOML formatting, wording, debouncing, ids, stoppable threads and fault points."""
