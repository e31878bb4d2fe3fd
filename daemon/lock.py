"""The profile lock lives in the core (`oxymus.profile.lock`): `oxymus restore` takes it too."""

from oxymus.profile.lock import AlreadyRunning, ProfileLock

__all__ = ["AlreadyRunning", "ProfileLock"]
