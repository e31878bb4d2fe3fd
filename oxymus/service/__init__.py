"""The daemon as a user service: the unit or plist (`units`), and installing it (`manager`)."""
