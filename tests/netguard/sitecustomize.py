"""Loaded by every Python process the tests start (PYTHONPATH): refuses and records any connection
to a non-loopback address, so the suite proves that Plume opens no outbound connection."""

import ipaddress
import os
import socket

_LOG = os.environ.get("PLUME_OUTBOUND_LOG")
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in {"localhost"}


def _refuse(address):
    if _LOG:
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {address!r}\n")
    raise ConnectionRefusedError(f"outbound connection refused by the test guard: {address!r}")


def _connect(self, address):
    if not _is_local(address):
        _refuse(address)
    return _original_connect(self, address)


def _connect_ex(self, address):
    if not _is_local(address):
        _refuse(address)
    return _original_connect_ex(self, address)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
