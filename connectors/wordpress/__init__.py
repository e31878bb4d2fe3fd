"""wordpress: `wordpress.publish` through the REST API (wp/v2) with an application password.

The connector polls nothing. The publisher agent reads a post's state (is a scheduled
post live yet?) through `find_post`, reached by the runtime through the connector
registry, never by importing this package.
"""

from __future__ import annotations

from typing import Any, ClassVar

from oxymus.actions.effects import ActionSpec
from oxymus.connectors.wordpress.config import WordPressConfig
from oxymus.sources.contract import Source


class WordPressConnector:
    """a WordPress site to publish posts to"""

    name: ClassVar[str] = "wordpress"
    Config: ClassVar[type[WordPressConfig]] = WordPressConfig

    @classmethod
    def sources(cls, config: WordPressConfig) -> list[Source]:
        return []

    @classmethod
    def actions(cls, config: WordPressConfig | None) -> list[ActionSpec]:
        # Imported here: config loading imports every connector, and only the daemon publishes.
        from oxymus.connectors.wordpress.publish import WordPressPublish

        return [WordPressPublish(config if config is not None else WordPressConfig())]

    @staticmethod
    def find_post(config: WordPressConfig, password: str, slug: str) -> dict[str, Any] | None:
        """The post with this slug as WordPress has it now ({id, status, link, date_gmt, ...}), None if none. Blocking;
        raises the action's EffectError classes (Transient, Permanent) on failure."""
        from oxymus.connectors.wordpress.api import WordPressApi, WordPressError
        from oxymus.connectors.wordpress.publish import effect_error

        api = WordPressApi(config.url or "", config.user or "", password, config.timeout)
        try:
            return api.find_post(slug)
        except WordPressError as exc:
            raise effect_error(exc, api, f"look up the post {slug!r}") from None
