"""`oxymus doctor`: every part of a setup checked, each problem with its fix.

`result` is the typed answer of one check, `local` the checks of this machine's
files and processes (config, policy, keyring, socket, database, backups, the
service), `remote` the ones that ask something else (each source, the notification
server, Ollama), `run` puts them together and `table` prints them.
"""
