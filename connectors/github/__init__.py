"""github: pull requests that need me, my pull requests' CI, issues assigned to me."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from oxymus.connectors.github.config import GitHubConfig
from oxymus.sources.contract import Source

if TYPE_CHECKING:
    from oxymus.actions.effects import ActionSpec


class GitHubConnector:
    """GitHub (or GitHub Enterprise)"""

    name: ClassVar[str] = "github"
    Config: ClassVar[type[GitHubConfig]] = GitHubConfig

    @classmethod
    def sources(cls, config: GitHubConfig) -> list[Source]:
        from oxymus.connectors.github.source import GitHubSource

        return [GitHubSource(config)]

    @classmethod
    def actions(cls, config: GitHubConfig | None) -> list[ActionSpec]:
        # Imported here: config loading imports every connector, and only the daemon acts.
        from oxymus.connectors.github.actions import Comment

        return [Comment(config if config is not None else GitHubConfig())]
