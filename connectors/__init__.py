"""Connectors: one module (or small package) per source of state or side effect.

Read side: `poll()` returns typed state and never has side effects. Write side:
`execute(action)` performs one side effect idempotently and returns a receipt.
Built-in connectors register through the same `oxymus.connectors` entry point
group as third-party ones. The core never imports a concrete connector.
"""
