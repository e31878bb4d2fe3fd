"""The profile lock lives in the core (`oxymus.profile_lock`): `oxymus restore` takes it too."""

from oxymus.profile_lock import AlreadyRunning, ProfileLock

__all__ = ["AlreadyRunning", "ProfileLock"]
