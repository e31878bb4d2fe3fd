"""git: the state of local repositories (branch, upstream, changes, operations in progress)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from oxymus.sources import Source, SourceSettings


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
