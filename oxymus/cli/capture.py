"""`oxymus capture`: the fast path, stdlib only.

Parses the command line, chooses the id and hands the capture to
`oxymus.client.capture.store` (the daemon when it answers, else the store directly;
the TUI uses the same function). `oxymus.cli.main` calls `main` here before argparse
is imported; `register` adds the command to the argparse tree for `--help` and the docs.
"""

from __future__ import annotations

import json
import sys

from oxymus.client.capture import CaptureRefused, store
from oxymus.kernel.ulid import new_ulid
from oxymus.profile import paths as paths_mod
from oxymus.store.capture_sql import CaptureError, check_text

USAGE = "usage: oxymus capture [--source NAME] [--json] (TEXT... | -)"


def register(command) -> None:
    """Add the command to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("capture", None, "put a thought in the inbox; prints its id (works with the daemon down)")
    p.add_argument("text", nargs="+", metavar="TEXT", help="the words to capture, or - to read them from stdin")
    p.add_argument("--source", default="cli", help="where it came from (default: cli; stdin when reading -)")
    p.add_argument("--json", action="store_true", help="print the stored capture as JSON")
    p.set_defaults(handler=_capture_via_argparse)


def _capture_via_argparse(args) -> int:
    # Reached only when the fast path declined (it never does for valid input); keep one code path.
    argv = list(args.text) + ["--source", args.source] + (["--json"] if args.json else [])
    return main(argv) or 0


class UsageError(Exception):
    pass


def parse(argv: list[str]) -> tuple[list[str], str, bool] | None:
    """(words, source, as_json), or None when argparse should handle it (--help)."""
    words: list[str] = []
    source = "cli"
    as_json = False
    it = iter(argv)
    for arg in it:
        if arg == "-" or not arg.startswith("-"):
            words.append(arg)
        elif arg == "--":
            words.extend(it)
        elif arg == "--json":
            as_json = True
        elif arg == "--source" or arg.startswith("--source="):
            source = arg.partition("=")[2] if "=" in arg else next(it, "")
            if not source:
                raise UsageError("--source needs a value")
        elif arg in ("-h", "--help"):
            return None
        else:
            raise UsageError(f"unknown option {arg}")
    if not words:
        raise UsageError("nothing to capture: give the text, or - to read it from stdin")
    return words, source, as_json


def read_text(words: list[str]) -> tuple[str, str | None]:
    """The capture text and, for stdin, the source to record."""
    if words == ["-"]:
        raw = sys.stdin.buffer.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise CaptureError(f"stdin is not valid UTF-8 (line {line}, byte {exc.start}); nothing was captured") from None
        return text.rstrip("\r\n"), "stdin"
    return " ".join(words), None


def _plainly(exc: Exception) -> str:
    from oxymus.store.storage_errors import DiskFull, StorageError

    if isinstance(exc, DiskFull):
        return f"{exc.headline}; free some space and capture again"
    if isinstance(exc, StorageError):
        return str(exc)
    return str(exc) or type(exc).__name__


def main(argv: list[str]) -> int | None:
    try:
        parsed = parse(argv)
        if parsed is None:
            return None
        words, source, as_json = parsed
        text, implied = read_text(words)
        if implied and source == "cli":
            source = implied
        check_text(text)
        capture = store(text, source, new_ulid(), paths_mod.resolve())
    except UsageError as exc:
        print(f"oxymus capture: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    except (CaptureError, CaptureRefused) as exc:
        print(f"oxymus capture: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the wire's RpcError, sqlite errors, paths errors: say it plainly
        print(f"oxymus capture: nothing was captured: {_plainly(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(capture, ensure_ascii=False) if as_json else capture["id"])
    return 0

