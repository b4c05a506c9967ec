"""A real Dovecot IMAP server for the mailbox tests and bench: a throw-away configuration in a temp
folder, TLS only (a certificate signed by a throw-away CA the client trusts), one user with a
password, Maildir storage, loopback ports chosen free. Debian package: dovecot-imapd.

Dovecot refuses mail access for UID 0, so when the tests run as root (CI does) the mail user is
`nobody` and its folders belong to nobody; otherwise everything runs as the current user.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "commune", "s3cret-Plume"


def available() -> bool:
    return Path(DOVECOT).exists() and shutil.which("openssl") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server cert, server key): a CA and a server certificate for localhost/127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Plume test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", str(ca_key), "-out", str(ca))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-days", "2",
        "-extfile", str(ext), "-out", str(cert))
    return ca, cert, key


@dataclass
class Dovecot:
    # Dovecot's own users (when run as root) must reach these files: pytest's temp folders are
    # private (0700), so the server gets its own folder directly under the system temp folder.
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="plume-dovecot-")))
    port: int = 0           # implicit TLS (imaps)
    starttls_port: int = 0  # plain port that requires STARTTLS
    process: subprocess.Popen | None = None
    user: str = USER
    password: str = PASSWORD
    extra_config: str = ""  # e.g. "mail_fsync = never" for the bench's client-side figure
    # An OAuth2 token introspection URL (RFC 7662): XOAUTH2 logins are then checked there.
    oauth2_introspection_url: str = ""

    @property
    def ca(self) -> Path:
        return self.root / "tls" / "ca.pem"

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    def configure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        _, cert, key = make_certificates(self.root / "tls")
        self.port, self.starttls_port = self.port or _free_port(), self.starttls_port or _free_port()
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            internal = "dovecot" if _exists("dovecot") else "nobody"
            login = "dovenull" if _exists("dovenull") else "nobody"
        else:
            mail_user = pwd.getpwuid(os.getuid())
            internal = login = mail_user.pw_name
        home = self.root / "home" / self.user
        home.mkdir(parents=True, exist_ok=True)
        for path in (self.root / "home", home):
            os.chown(path, mail_user.pw_uid, mail_user.pw_gid) if os.geteuid() == 0 else None
        (self.root / "users").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{mail_user.pw_uid}:{mail_user.pw_gid}::{home}::\n")
        (self.root / "run").mkdir(exist_ok=True)
        (self.root / "dovecot.conf").write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth2_introspection_url else ""}
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_privileged_group =
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
{self._oauth2_passdb()}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
{self.extra_config}
""")
        # The state folder must exist and the log must be writable by dovecot's own users.
        (self.root / "state").mkdir(exist_ok=True)
        self.log.touch()

    def _oauth2_passdb(self) -> str:
        if not self.oauth2_introspection_url:
            return ""
        conf = self.root / "oauth2.conf.ext"
        conf.write_text(f"introspection_mode = post\nintrospection_url = {self.oauth2_introspection_url}\n"
                        "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
        return f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {conf}\n}}\n"

    def start(self, timeout: float = 15) -> None:
        if not (self.root / "dovecot.conf").exists():
            self.configure()
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot s'est arrêté : {self.process.stderr.read().decode()[-2000:]}\n"
                                   f"{self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot n'écoute pas sur {self.port} : {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stops the server the way a crash or a restart would: its connections are cut."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None
        # The master left its pid file and sockets behind; a fresh start must not trip on them.
        shutil.rmtree(self.root / "run", ignore_errors=True)
        (self.root / "run").mkdir(exist_ok=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False
