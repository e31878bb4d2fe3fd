"""The GitHub source: PRs that ask for my review, my PRs and their CI, issues assigned to me.

Each poll asks three searches (`is:open is:pr review-requested:@me archived:false`,
`is:open is:pr author:@me archived:false`, `is:open is:issue assignee:@me
archived:false`), each capped at `max_items`, then for each of my PRs its head
commit (GET pulls/N) and that commit's combined status and check runs.

Quota. One PyGithub client lives as long as the source (and the token), and every
GET it makes is conditional once it has an ETag for that URL (see `api.py`): a 304
costs no quota and reuses the body parsed last time. So an idle poll costs nothing
whatever it asks; a change costs one request per changed answer. CI is re-asked
(conditionally) on every poll even when it was final, because GitHub can change a
finished commit's CI without touching the PR (a re-run, a late check suite); the
price is three conditional requests per PR of mine, no quota. Before a poll, when
the last answers said fewer than 50 core requests (or fewer than 3 searches) are
left, the poll is refused with `SourceUnavailable` until the reset, which leaves the
rest of the hour's quota to the person's other tools.

PyGithub is synchronous: the poll runs in a worker thread, one at a time per source.
This module stays light (it is imported with the config); `poll.py` (the poll's
logic) and `api.py` (the wire, PyGithub) are imported by the first poll.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from oxymus.connectors.github.config import GitHubConfig
from oxymus.sources.contract import NeedsHuman, PollContext, PollResult, SourceUnavailable
from oxymus.sources.secrets import SecretSpec

if TYPE_CHECKING:
    from oxymus.connectors.github.api import GitHubApi

SECRET_NAME = "github"
TOKEN_ENVS = ("GH_TOKEN", "GITHUB_TOKEN")  # gh's order


def token_spec(config: GitHubConfig) -> SecretSpec:
    """The environment first (as `gh` does), then `[github] password_command`, then the keyring."""
    return SecretSpec(SECRET_NAME, env=TOKEN_ENVS, command=config.password_command, command_key="[github] password_command")


def no_token(config: GitHubConfig) -> str:
    return f"no GitHub token: {token_spec(config).ways()}"


def read_token(ctx: PollContext, config: GitHubConfig) -> str:
    """The token, "" when nothing has one. Blocking (it may run the command): call it in a thread."""
    return (ctx.secret(token_spec(config)) or "").strip()


class GitHubSource:
    """`github`: one source per `[github]` section."""

    def __init__(self, config: GitHubConfig):
        self.config = config
        self.id = "github"
        self.interval = config.interval
        self.stale_after = config.stale_after
        self._api: GitHubApi | None = None
        self._api_for: tuple[str, float] | None = None  # (token, timeout) the client was made with
        self._busy = threading.Lock()

    async def poll(self, ctx: PollContext) -> PollResult:
        return await asyncio.to_thread(self._poll_in_thread, ctx)

    def _poll_in_thread(self, ctx: PollContext) -> PollResult:
        # A poll the coordinator gave up on keeps running in its thread; the client is
        # not thread-safe, so a second poll must not start beside it.
        if not self._busy.acquire(blocking=False):
            raise SourceUnavailable("an earlier GitHub poll is still running")
        try:
            token = read_token(ctx, self.config)
            if not token:
                raise NeedsHuman(no_token(self.config))
            api = self._client(token, ctx.timeout)
            from oxymus.connectors.github.poll import GitHubPoll

            return GitHubPoll(api, self.config, ctx).run()
        finally:
            self._busy.release()

    def _client(self, token: str, timeout: float) -> GitHubApi:
        from oxymus.connectors.github.api import GitHubApi  # imports PyGithub: only when polling

        if self._api is None or self._api_for != (token, timeout):
            if self._api is not None:
                self._api.close()  # a new token may be a new person: its ETags are not ours
            self._api = GitHubApi(base_url=self.config.api_url, token=token, timeout=timeout)
            self._api_for = (token, timeout)
        return self._api
