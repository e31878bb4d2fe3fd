"""The uid of the process at the other end of a Unix socket, from the kernel."""

from __future__ import annotations

import socket
import struct
import sys


def peer_uid(sock: socket.socket) -> int:
    if sys.platform.startswith("linux"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return uid
    # BSD / macOS: LOCAL_PEERCRED at level SOL_LOCAL (0) returns a struct xucred:
    # u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16].
    SOL_LOCAL, LOCAL_PEERCRED = 0, 0x001
    raw = sock.getsockopt(SOL_LOCAL, LOCAL_PEERCRED, struct.calcsize("IIh16I"))
    return struct.unpack_from("II", raw)[1]
