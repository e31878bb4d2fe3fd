"""The `[github]` config section: what a person writes in config.toml for this connector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from oxymus.sources.contract import SourceSettings

if TYPE_CHECKING:
    pass


class GitHubConfig(SourceSettings):
    """`[github]`: the API to ask. The token comes from GH_TOKEN or GITHUB_TOKEN, `password_command`, or the keyring (`github`), in that order."""

    api_url: str = Field(default="https://api.github.com", description="API base URL (GitHub Enterprise: https://HOST/api/v3)")
    interval: float = Field(default=300, ge=5, description="seconds between polls")
    stale_after: float = Field(default=1800, ge=10, description="seconds after which the source's state is reported stale")
    max_items: int = Field(default=100, ge=1, le=1000, description="at most this many pull requests or issues per query")
    password_command: str | None = Field(
        default=None,
        description="a command printing the token on its first line, run without a shell (used when GH_TOKEN and GITHUB_TOKEN are unset; before the keyring)",
        examples=["pass show github/token"],
    )
