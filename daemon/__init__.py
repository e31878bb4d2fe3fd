"""The Oxymus daemon: one long-running asyncio process per profile.

It owns the store, serves clients on a Unix socket and pushes change events.
Split by job: `lock` (one daemon per profile), `peercred` (who is calling),
`events` (pub/sub), `rpc` (socket server and framing), `service` (the allowlisted
methods), `watcher` (writes made by other processes), `logs`, `main` (lifecycle).
"""
