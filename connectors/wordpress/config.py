"""The `[wordpress]` config section: the site `wordpress.publish` posts to."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.sources.secrets import SecretSpec

SECRET_NAME = "wordpress"  # `oxymus secret set wordpress`: the application password


class WordPressConfig(BaseModel):
    """`[wordpress]`: a WordPress site reached through its REST API with an application password."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="the site's base URL; the REST root is <url>/wp-json/wp/v2/",
                            examples=["https://blog.example.org"])
    user: str | None = Field(default=None, min_length=1, description="the WordPress user the application password belongs to",
                             examples=["ana"])
    password_command: str | None = Field(
        default=None, examples=["pass show wordpress/app-password"],
        description=f"a command printing the application password on its first line, run without a shell; unset: the keyring entry `{SECRET_NAME}`",
    )
    timeout: float = Field(default=30, gt=0, le=300, description="seconds WordPress may take to answer one request")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or "://" not in value or not value.split("://", 1)[1]:
            raise ValueError(f"{value!r} is not an http(s) URL of a site")
        return value

    def api_root(self) -> str:
        return f"{self.url}/wp-json/wp/v2"

    def secret_spec(self) -> SecretSpec:
        return SecretSpec(SECRET_NAME, command=self.password_command, command_key="[wordpress] password_command")
