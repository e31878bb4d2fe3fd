"""git: the state of local repositories (branch, upstream, changes, operations in progress), and commits and pushes in them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from oxymus.sources.contract import Source, SourceSettings

if TYPE_CHECKING:
    from oxymus.actions.effects import ActionSpec


class GitConfig(SourceSettings):
    """`[git]`: which repositories to watch."""

    repos: list[str] = Field(default_factory=list, description="explicit repository paths", examples=[["~/code/blog"]])
    roots: list[str] = Field(default_factory=list, description="folders whose direct subfolders that are repositories are watched", examples=[["~/code"]])
    interval: float = Field(default=60, ge=5, description="seconds between polls")
    stale_after: float = Field(default=600, ge=10, description="seconds after which the source's state is reported stale")
    concurrency: int = Field(default=8, ge=1, le=64, description="repositories polled at once")


class GitConnector:
    """local git repositories"""

    name: ClassVar[str] = "git"
    Config: ClassVar[type[GitConfig]] = GitConfig

    @classmethod
    def sources(cls, config: GitConfig) -> list[Source]:
        from oxymus.connectors.git.source import GitSource

        return [GitSource(config)]

    @classmethod
    def actions(cls, config: GitConfig | None) -> list[ActionSpec]:
        """`git.commit` and `git.push`, on the repositories `config` names (none without a [git] section)."""
        from oxymus.connectors.git.actions import GitCommitSpec, GitPushSpec

        return [GitCommitSpec(config), GitPushSpec(config)]
