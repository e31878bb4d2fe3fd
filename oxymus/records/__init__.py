"""Canonical records: typed memory records (leads, clients, projects, products, posts) with a
status pipeline, links to each other and to what they concern, and versioned schemas.

`kinds.py` declares what a kind is and the built-in ones (plugins add more through the
`oxymus.record_kinds` entry point group); `model.py` is the pure part (validation,
schema migration, the models the RPC carries); the store side is
`oxymus/store/record_repo.py`.
"""
