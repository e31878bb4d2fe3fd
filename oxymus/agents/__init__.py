"""Agents: narrow specialists that turn state, memory and plans into artifacts and proposals.

`base.py` is the contract. Built-in specialists live beside it, one module each
(the larger ones keep their pure parts in a second module: `publisher_draft`,
`reflection_review`, `sentinel_notices`, `triage_rules`; `distribution` sends published posts);
third parties register more under the entry point group `oxymus.agents`, found by
`oxymus.plugins.agents()`.
"""

