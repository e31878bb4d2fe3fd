"""Checks of this machine's side: config, policy, keyring, socket, database, backups, the service.

Each reads only: the database through a read-only connection (never created, migrated
or checkpointed), the socket by asking the daemon its status.
"""

from __future__ import annotations

import datetime as dt
import os
import stat

from oxymus.doctor.result import Check, fail, ok, skip, warn
from oxymus.profile import config as config_mod
from oxymus.profile.paths import Paths

BACKUP_TOO_OLD = dt.timedelta(hours=36)  # the daemon makes one a day and looks every six hours


def _fix_for(exc: config_mod.ConfigError, what: str) -> str:
    where = exc.path + (f", line {exc.line}" if exc.line else "")
    key = f" the value of `{exc.key}`" if exc.key else ""
    return f"correct{key} in {where} ({what}; docs/reference.md lists every key and its values)"


def config_check(paths: Paths) -> tuple[Check, config_mod.CoreConfig | None]:
    path = config_mod.config_path_from_env(paths.config_file)
    try:
        cfg = config_mod.load(path)
    except config_mod.ConfigError as exc:
        return fail("config", str(exc), _fix_for(exc, "the daemon will not start until it is fixed")), None
    if not os.path.exists(path):
        return ok("config", f"no {path}: the defaults apply (`oxymus init` writes a commented one)"), cfg
    return ok("config", f"{path} is valid"), cfg


def policy_check(paths: Paths, cfg: config_mod.CoreConfig | None) -> Check:
    from oxymus.actions import policy

    try:
        pol = policy.load(paths.policy_file)
    except config_mod.ConfigError as exc:
        return fail("policy", str(exc), _fix_for(exc, "until then every action waits for your approval")
                    + "; `oxymus policy check` checks it again")
    if pol.sha256 is None:
        return ok("policy", f"no {paths.policy_file}: the built-in defaults apply")
    if cfg is None:
        return ok("policy", f"{paths.policy_file} is valid ({len(pol.rules)} rules; kinds not checked: config.toml does not load)")
    from oxymus.action_kinds import action_specs

    lints = policy.lint(pol, sorted(action_specs(cfg)))
    if lints:
        return warn("policy", f"{paths.policy_file}: " + "; ".join(lints),
                    f"edit those rules in {paths.policy_file}; `oxymus policy explain KIND` shows what a rule decides")
    return ok("policy", f"{paths.policy_file} is valid ({len(pol.rules)} rule{'s' if len(pol.rules) != 1 else ''})")


def keyring_check() -> Check:
    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    inner = [f"{type(b).__module__}.{type(b).__name__}" for b in getattr(backend, "backends", [])]
    if name.startswith(("keyring.backends.fail.", "keyring.backends.null.")) or (inner == [] and "chainer" in name):
        return warn(
            "keyring", f"no usable OS keyring ({name}): `oxymus secret set` cannot store tokens and passwords",
            "install and unlock one (GNOME Keyring or KWallet on Linux, the Keychain on macOS), or give each secret "
            "without one: GH_TOKEN/GITHUB_TOKEN for GitHub, `password_command` in a calendar's config section",
        )
    shown = ", ".join(inner) if inner else name
    plain = " (an unencrypted file)" if "Plaintext" in shown else ""
    return ok("keyring", f"{shown}{plain}")


def socket_check(paths: Paths, daemon: dict | None) -> Check:
    sock = paths.socket
    try:
        st = os.lstat(sock)
    except FileNotFoundError:
        return warn("socket", f"the daemon is not running (no socket at {sock})",
                    "`oxymus up` starts it; `oxymus service install` keeps it running by itself")
    problems = []
    if not stat.S_ISSOCK(st.st_mode):
        problems.append("it is not a socket")
    if stat.S_IMODE(st.st_mode) != 0o600:
        problems.append(f"its mode is {stat.S_IMODE(st.st_mode):04o}, not 0600")
    if st.st_uid != os.getuid():
        problems.append(f"it belongs to uid {st.st_uid}, not you ({os.getuid()})")
    try:
        run = os.stat(paths.runtime_dir)
        if stat.S_IMODE(run.st_mode) != 0o700 or run.st_uid != os.getuid():
            problems.append(f"its folder {paths.runtime_dir} is mode {stat.S_IMODE(run.st_mode):04o} of uid {run.st_uid}, "
                            "not 0700 and yours")
    except OSError as exc:
        problems.append(f"its folder cannot be read ({exc.strerror})")
    if problems:
        return fail("socket", f"{sock}: " + "; ".join(problems),
                    f"`chmod 700 {paths.runtime_dir} && chmod 600 {sock}`, or restart the daemon (`oxymus down && "
                    "oxymus up`), which makes both owner-only")
    if daemon is None:
        return warn("socket", f"{sock} is there but no daemon answers on it",
                    "`oxymus up` removes the stale socket and starts the daemon")
    return ok("socket", f"{sock} (0600, yours); daemon pid {daemon['pid']} answers (oxymus {daemon['version']})")


def database_check(paths: Paths) -> Check:
    from oxymus.store import backup_files, health
    from oxymus.store.migrations import LATEST

    path = paths.db_file
    if not os.path.exists(path):
        return skip("database", f"no database yet at {path} (the daemon creates it when it first starts)")
    problem = health.inspect(path)
    if problem is not None:
        newest = backup_files.newest(paths.backup_dir)
        fix = (f"`oxymus down`, then `oxymus restore {newest}` (the damaged file is set aside, not deleted)" if newest
               else "no backup to restore from: keep the file, and ask SQLite's `.recover` for what it can read")
        return fail("database", f"{path}: {problem}", fix)
    try:
        version = health.schema_version(path)
    except Exception as exc:  # noqa: BLE001 - a file that opens but cannot say its version is reported, not raised
        return fail("database", f"{path}: cannot read its schema version ({exc})", "see `oxymus status`; restore a backup")
    if version > LATEST:
        return fail("database", f"{path}: schema v{version} is newer than this Oxymus knows (v{LATEST})",
                    "upgrade Oxymus to the version that wrote it, or restore a backup this version made")
    size = os.path.getsize(path)
    later = f"; the daemon migrates it to v{LATEST} when it next starts" if version < LATEST else ""
    return ok("database", f"{path}: quick_check ok, schema v{version}{later} ({size / 1e6:.1f} MB)")


def backup_check(paths: Paths, cfg: config_mod.CoreConfig | None, now: dt.datetime | None = None) -> Check:
    from oxymus.store import backup_files

    now = now or dt.datetime.now(dt.timezone.utc)
    if cfg is not None and cfg.backup.keep == 0:
        return warn("backup", "daily backups are off ([backup] keep = 0 in config.toml)",
                    "set `keep = 7` under [backup] in config.toml, or run `oxymus backup` yourself now and then")
    found = backup_files.listing(paths.backup_dir)
    if not found:
        if not os.path.exists(paths.db_file):
            return skip("backup", "no database yet, so nothing to back up")
        return warn("backup", f"no backup yet in {paths.backup_dir}",
                    "`oxymus backup` makes one now; the running daemon makes one a day")
    when, newest = found[-1]
    age = now - when
    hours = age.total_seconds() / 3600
    words = f"{age.days} days" if age.days >= 2 else f"{hours:.0f} hours" if hours >= 1.5 else "under an hour"
    if age > BACKUP_TOO_OLD:
        return warn("backup", f"the newest backup is {words} old ({newest})",
                    "`oxymus backup` makes one now; keep the daemon running (`oxymus service install`) for daily ones")
    return ok("backup", f"the newest is {words} old ({os.path.basename(newest)}), {len(found)} in {paths.backup_dir}")


def service_check() -> Check:
    from oxymus.service import manager
    from oxymus.service.units import ServiceError

    try:
        state = manager.status()
    except ServiceError as exc:
        return skip("service", str(exc))
    if not state.installed:
        if state.problem:
            return skip("service", f"not installed, and it could not be here: {state.problem}")
        return ok("service", "not installed: the daemon runs when started (`oxymus service install` runs it by itself)")
    exe = _exec_start(state.path)
    if exe is not None and not os.access(exe, os.X_OK):
        return fail("service", f"{state.path} runs {exe}, which is not there any more",
                    "`oxymus service install` again, with the `oxymus` you use now")
    if state.problem:
        return warn("service", f"installed ({state.path}) but its manager cannot be asked: {state.problem}",
                    "run `oxymus doctor` in your desktop session")
    if not state.enabled:
        return warn("service", f"installed ({state.path}) but not enabled ({state.state})",
                    "`oxymus service install` enables and starts it")
    if not state.running:
        return fail("service", f"installed and enabled but not running ({state.state})",
                    "see why: `systemctl --user status oxymus` and `journalctl --user -u oxymus`; then "
                    "`systemctl --user restart oxymus`" if state.manager == "systemd"
                    else f"see `launchctl print gui/{os.getuid()}/dev.oxymus.daemon`; `oxymus service install` loads it again")
    return ok("service", f"installed ({state.path}), enabled, running")


def _exec_start(path: str) -> str | None:
    """The program a unit or plist runs (what `oxymus service install` wrote; None if it cannot tell)."""
    try:
        if path.endswith(".plist"):
            import plistlib

            with open(path, "rb") as fh:
                return plistlib.load(fh)["ProgramArguments"][0]
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("ExecStart="):
                    import shlex

                    return shlex.split(line.removeprefix("ExecStart=").replace("%%", "%").replace("$$", "$"))[0]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return None
