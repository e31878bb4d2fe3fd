"""notify.send on a real private D-Bus session bus with a fake notification server."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import eventually
from dbus_session import NotificationServerProcess, NotificationServerThread, notification_server, session_bus  # noqa: F401 - fixtures
from pydantic import ValidationError

from oxymus.action_kinds import action_specs
from oxymus.actions.effects import ActionContext
from oxymus.connectors.notify import NotifyConfig, NotifyConnector
from oxymus.connectors.notify.send import NotifySend, bus_available, close_notifiers


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await close_notifiers()


def context(on_button=None) -> ActionContext:
    return ActionContext(zone=ZoneInfo("UTC"), config_dir=Path("/tmp"), action_id="NOTIFYID", on_button=on_button, timeout=10)


async def send(payload: dict, config: NotifyConfig | None = None, ctx: ActionContext | None = None):
    spec = NotifySend(config)
    return await spec.execute(spec.parse(payload), ctx or context())


def test_the_connector_declares_the_kind_and_polls_nothing():
    (spec,) = NotifyConnector.actions(None)
    assert (spec.kind, spec.scope, spec.risk) == ("notify.send", "local", "low")
    assert spec.config == NotifyConfig()
    assert NotifyConnector.sources(NotifyConfig()) == []
    assert "notify.send" in action_specs(None)


def test_preview_is_a_message():
    spec = NotifySend()
    preview = spec.preview(spec.parse({
        "title": "Push blog?", "body": "3 files", "buttons": [{"id": "approve", "label": "Push"}], "decides": "A1",
    }))
    assert preview.format == "message"
    assert preview.summary == "notify (normal): Push blog?"
    assert "3 files" in preview.body and "[Push]" in preview.body and "A1" in preview.body


async def test_a_notification_arrives_with_title_body_and_urgency(notification_server):
    receipt = await send({"title": "Bill due", "body": "Rent: 900 EUR\non Friday", "urgency": "critical"},
                         NotifyConfig(app_name="Oxymus test", timeout_s=7))
    (n,) = notification_server.wait_for(1)
    assert (n["app_name"], n["summary"], n["body"]) == ("Oxymus test", "Bill due", "Rent: 900 EUR\non Friday")
    assert n["hints"]["urgency"] == 2
    assert n["expire_timeout"] == 7000
    assert receipt.summary == "notified: Bill due"
    assert receipt.ref and receipt.data["shown"] is True and not receipt.already_done


async def test_control_characters_are_stripped_before_sending(notification_server):
    await send({"title": "a\tb\nc\x1b[31m", "body": "line\x00one\r\nline two\x07 \udcff"})
    (n,) = notification_server.wait_for(1)
    assert n["summary"] == "a b c[31m"
    assert n["body"] == "lineone\nline two \ufffd"


async def test_buttons_arrive_as_actions_and_a_press_decides_the_target(notification_server):
    pressed: list[tuple[str, str]] = []

    async def on_button(target: str, button: str) -> None:
        pressed.append((target, button))

    receipt = await send(
        {"title": "Push ~/blog?", "buttons": [{"id": "approve", "label": "Approve"}, {"id": "deny", "label": "Deny"}],
         "decides": "ACTIONID"},
        ctx=context(on_button),
    )
    (n,) = notification_server.wait_for(1)
    pairs = list(zip(n["actions"][::2], n["actions"][1::2]))
    assert ("approve", "Approve") in pairs and ("deny", "Deny") in pairs
    assert receipt.data["buttons"] == ["approve", "deny"] and receipt.data["decides"] == "ACTIONID"

    # The daemon is long-running: the press arrives after execute() returned.
    notification_server.invoke_action(n["id"], "approve")
    await eventually(lambda: pressed, what="the button press to reach the context")
    assert pressed == [("ACTIONID", "approve")]


async def test_a_failing_button_handler_is_logged_not_raised(notification_server, caplog):
    def on_button(target: str, button: str):
        raise RuntimeError("store is closed")

    await send({"title": "t", "buttons": [{"id": "deny", "label": "No"}], "decides": "X"}, ctx=context(on_button))
    (n,) = notification_server.wait_for(1)
    notification_server.invoke_action(n["id"], "deny")
    await eventually(lambda: "store is closed" in caplog.text, what="the handler's failure in the log")


async def test_no_bus_is_not_a_failure_the_receipt_says_unshown(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    receipt = await send({"title": "hello"})
    assert receipt.data["shown"] is False and receipt.data["desktop"] == "unavailable"
    assert receipt.data["note"] == "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
    assert bus_available() == (False, "DBUS_SESSION_BUS_ADDRESS is unset")
    assert NotifySend().available()[0] is True  # still proposed: it goes to a TUI or the missed list


async def test_a_bus_address_with_nothing_behind_it_is_unshown(monkeypatch):
    gone = os.path.join(tempfile.mkdtemp(prefix="ox-", dir="/tmp"), "bus")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={gone}")
    receipt = await send({"title": "hello"})
    assert receipt.data["desktop"] == "unavailable" and f"{gone}: no such file or directory" in receipt.data["note"]


async def test_a_bus_without_a_notification_server_is_unshown_not_failed(session_bus):
    assert bus_available()[0] is True
    receipt = await send({"title": "hello"})
    assert receipt.data["desktop"] == "unavailable" and "no notification server on the session bus" in receipt.data["note"]
    receipt = await send({"title": "t", "buttons": [{"id": "approve", "label": "OK"}], "decides": "A1"})
    assert receipt.data["desktop"] == "unavailable"


async def test_a_server_without_buttons_gets_a_hint_to_open_oxymus(session_bus):
    with NotificationServerThread(session_bus.address, capabilities=("body",)) as server:
        receipt = await send({"title": "Approve? push", "body": "3 files", "buttons": [{"id": "approve", "label": "Approve"}],
                              "decides": "ACT1"})
        (n,) = server.wait_for(1)
    assert "approve" not in n["actions"]  # desktop-notifier still asks for the click on the notification ("default")
    assert n["body"] == "3 files\nOpen Oxymus (oxymus tui) to approve, or: oxymus approve ACT1"
    assert receipt.data["desktop"] == "shown_plain" and "without buttons" in receipt.summary


async def test_a_kind_switched_off_is_recorded_not_shown(notification_server):
    from oxymus.connectors.notify.config import NotifyKinds

    receipt = await send({"title": "digest", "kind": "digest"}, NotifyConfig(kinds=NotifyKinds(digest=False)))
    assert receipt.data["desktop"] == "off" and receipt.data["note"] == "notify.kinds.digest is false"
    await send({"title": "bill", "kind": "bill"}, NotifyConfig(kinds=NotifyKinds(digest=False)))
    assert [n["summary"] for n in notification_server.wait_for(1)] == ["bill"]


async def test_disabled_records_without_showing(notification_server):
    receipt = await send({"title": "quiet"}, NotifyConfig(enabled=False))
    assert receipt.summary == "recorded, not shown (notify.enabled is false): quiet"
    assert receipt.data["shown"] is False and receipt.ref is None
    # Sent afterwards through the same bus: had the first been sent, it would be first.
    await send({"title": "loud"})
    assert [n["summary"] for n in notification_server.wait_for(1)] == ["loud"]


async def test_disabled_needs_no_bus(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    receipt = await send({"title": "quiet"}, NotifyConfig(enabled=False))
    assert receipt.data["shown"] is False


async def test_the_fake_server_also_runs_as_a_subprocess(session_bus):
    """What a test of the real daemon uses: the same bus, the server in a child process."""
    pressed: list[tuple[str, str]] = []

    async def on_button(target: str, button: str) -> None:
        pressed.append((target, button))

    with NotificationServerProcess(session_bus.address) as server:
        await send({"title": "from a child", "buttons": [{"id": "approve", "label": "OK"}], "decides": "A9"},
                   ctx=context(on_button))
        (n,) = server.wait_for(1)
        assert n["summary"] == "from a child" and "approve" in n["actions"]
        server.invoke_action(n["id"], "approve")
        await eventually(lambda: pressed, what="the press from the child server")
    assert pressed == [("A9", "approve")]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, ("title",)),
        ({"title": ""}, ("title",)),
        ({"title": "\x1b\x00"}, ("title",)),
        ({"title": "x" * 201}, ("title",)),
        ({"title": "t", "body": "x" * 2001}, ("body",)),
        ({"title": "t", "urgency": "urgent"}, ("urgency",)),
        ({"title": "t", "decides": "A", "buttons": [{"id": "Approve!", "label": "OK"}]}, ("buttons", 0, "id")),
        ({"title": "t", "decides": "A", "buttons": [{"id": "default", "label": "OK"}]}, ("buttons", 0, "id")),
        ({"title": "t", "decides": "A", "buttons": [{"id": "ok", "label": "x" * 41}]}, ("buttons", 0, "label")),
        ({"title": "t", "decides": "A", "buttons": [{"id": c, "label": c} for c in ("a", "b", "c", "d")]}, ("buttons",)),
        ({"title": "t", "decides": "A", "buttons": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]}, ("buttons",)),
        ({"title": "t", "buttons": [{"id": "ok", "label": "OK"}]}, ("decides",)),
        ({"title": "t", "colour": "red"}, ("colour",)),
    ],
)
def test_payload_errors_name_the_field(payload, field):
    with pytest.raises(ValidationError) as err:
        NotifySend().parse(payload)
    assert err.value.errors()[0]["loc"] == field
