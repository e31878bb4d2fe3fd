"""One check's answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Status = Literal["ok", "warn", "fail", "skip"]


class Check(BaseModel):
    """`fix` says what to do; every warn and fail has one."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    @property
    def needs_attention(self) -> bool:
        return self.status in ("warn", "fail")


def ok(name: str, detail: str) -> Check:
    return Check(name=name, status="ok", detail=detail)


def skip(name: str, detail: str) -> Check:
    return Check(name=name, status="skip", detail=detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name=name, status="warn", detail=detail, fix=fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name=name, status="fail", detail=detail, fix=fix)
