"""Runs a command under strace and finds every attempt to reach another machine.

Python-level guards (patching `socket.connect`) cannot see native libraries: ONNX Runtime's telemetry
resolves and connects from C++ threads. strace sees every process and thread of the command (`-f`),
whatever the language. An attempt is:
- a connect/sendto/sendmsg/sendmmsg to an IPv4 or IPv6 address that is not loopback;
- any DNS query (port 53), even to a resolver on loopback (systemd-resolved listens on 127.0.0.53):
  the server has no name to resolve, so a lookup is the first step of a connection out;
- a connect to the resolver daemons' sockets (nscd, systemd-resolved) that does not fail: the daemon
  would resolve names for glibc without a single UDP packet from the process itself. A refused one
  (no daemon: ENOENT, ECONNREFUSED) is not an attempt: glibc tries nscd first for every passwd, group
  or hosts lookup, then does the lookup in the process, where a DNS query would be seen. (Seen in
  CI: bash started without SHELL reads the user's passwd entry; the server runs apertium, a bash script.)
Other AF_UNIX sockets and AF_NETLINK (listing the interfaces) stay on the machine.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# bind is traced only to show that the trace covers the command (a server binds its port).
SYSCALLS = "connect,sendto,sendmsg,sendmmsg,bind"
RESOLVER_SOCKETS = ("/var/run/nscd/socket", "/run/nscd/socket", "/run/systemd/resolve/io.systemd.Resolve")

_LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<call>connect|sendto|sendmsg|sendmmsg)\((?P<fd>\d+)")
_INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<host>[^"]+)"\)')
_INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((?P<port>\d+)\),[^}]*?inet_pton\(AF_INET6, "(?P<host>[^"]+)"')
_UNIX = re.compile(r'sa_family=AF_UNIX, sun_path=@?"(?P<path>[^"]+)"')
_FAILED = re.compile(r"\)\s+= -1 E[A-Z]+")
_RESUMED = re.compile(r"^(?P<pid>\d+)\s+<\.\.\. connect resumed>")
_PAYLOAD = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\([0-7]{1,3}|[tnvfr\\\"])")
_NAMED = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13, "\\": 92, '"': 34}


@dataclass(frozen=True)
class Attempt:
    pid: int
    call: str
    host: str
    port: int | None
    query: str = ""  # the name asked for, when the packet is a DNS query

    def __str__(self) -> str:
        where = f"{self.host}:{self.port}" if self.port is not None else self.host
        return f"pid {self.pid} {self.call} → {where}" + (f" (DNS {self.query})" if self.query else "")


def _is_local(host: str) -> bool:
    address = ipaddress.ip_address(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified  # 0.0.0.0 / :: as a destination is this machine


def _unescape(text: str) -> bytes:
    """strace's C-style string back to bytes."""
    out, pos = bytearray(), 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("latin-1", "replace")
        code = m.group(1)
        out.append(_NAMED[code] if code in _NAMED else int(code, 8) & 0xFF)
        pos = m.end()
    out += text[pos:].encode("latin-1", "replace")
    return bytes(out)


def dns_query(line: str) -> str:
    """The name a DNS query packet asks for (header of 12 bytes, then length-prefixed labels)."""
    match = _PAYLOAD.search(line)
    if not match:
        return ""
    packet, pos, labels = _unescape(match.group(1)), 12, []
    while pos < len(packet) and 0 < packet[pos] < 64 and pos + 1 + packet[pos] <= len(packet):
        labels.append(packet[pos + 1:pos + 1 + packet[pos]].decode("ascii", "replace"))
        pos += 1 + packet[pos]
    return ".".join(labels)


def attempts(lines: list[str]) -> list[Attempt]:
    found = []
    resolvers: dict[str, str] = {}  # socket (fd) connected to a DNS server -> that server
    pending: dict[int, Attempt] = {}  # a resolver daemon connect whose result comes on a later line
    for line in lines:
        resumed = _RESUMED.match(line)
        if resumed and int(resumed.group("pid")) in pending:
            attempt = pending.pop(int(resumed.group("pid")))
            if not _FAILED.search(line):
                found.append(attempt)
            continue
        head = _LINE.match(line)
        if not head:
            continue
        pid, call, fd = int(head.group("pid")), head.group("call"), head.group("fd")
        addressed = False
        for pattern in (_INET, _INET6):
            for m in pattern.finditer(line):
                addressed = True
                host, port = m.group("host"), int(m.group("port"))
                if port == 53 and call == "connect":
                    resolvers[fd] = host
                    found.append(Attempt(pid, call, host, port))
                elif port == 53:
                    found.append(Attempt(pid, call, host, port, dns_query(line)))
                elif not _is_local(host):
                    found.append(Attempt(pid, call, host, port))
        if not addressed and call != "connect" and fd in resolvers:
            # glibc connects its UDP socket to the resolver, then sends without an address. (fd
            # numbers are per process; one reused for something else would only add a line.)
            found.append(Attempt(pid, call, resolvers[fd], 53, dns_query(line)))
        for m in _UNIX.finditer(line):
            if m.group("path") in RESOLVER_SOCKETS:
                attempt = Attempt(pid, call, m.group("path"), None)
                if line.endswith("<unfinished ...>"):
                    pending[pid] = attempt
                elif not _FAILED.search(line):
                    found.append(attempt)
    return found + list(pending.values())  # never resumed: the daemon may have answered


def read_attempts(log: Path) -> tuple[list[Attempt], list[str]]:
    """The attempts in an strace log, and all the lines it holds."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return attempts(lines), lines


def strace_prefix(log: Path) -> tuple[str, ...]:
    """The words to put before a command so that its network system calls land in `log`."""
    strace = shutil.which("strace")
    if strace is None:
        raise RuntimeError("strace is missing: scripts/system-packages.sh installs it")
    # --seccomp-bpf: only the traced calls stop the process, so the server runs at nearly full speed.
    return (strace, "-f", "-qq", "--seccomp-bpf", "-e", "signal=none", "-s", "128",
            "-e", f"trace={SYSCALLS}", "-o", str(log))


def traced_child(strace_pid: int, timeout: float = 10) -> int:
    """The pid of the command strace started (its only direct child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == strace_pid:
                    return int(entry.name)
            except (OSError, IndexError, ValueError):
                continue
        time.sleep(0.05)
    raise RuntimeError("strace started no command")


def stop_traced(strace: subprocess.Popen, timeout: float = 20) -> None:
    """Stop the traced command itself (a signal to strace would only detach it and leave it running),
    then wait for strace to write its last lines."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if strace.poll() is not None:
            return
        try:
            os.kill(traced_child(strace.pid, timeout=2), sig)
        except (RuntimeError, ProcessLookupError):
            pass
        try:
            strace.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue
