"""A throw-away headless LibreOffice with the Plume extension installed, for the .oxt tests.

The extension is installed with `unopkg add` into a fresh user profile before soffice starts, as IT
would for one user. unopkg refuses to run as root without --shared (which would touch the system
installation), so as root it runs under an unprivileged uid on a profile it may write to.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DRIVER = Path(__file__).with_name("driver.py")
SYSTEM_PYTHON = "/usr/bin/python3"
NOBODY = 65534
# The Debian packages behind `available()` (scripts/system-packages.sh).
OFFICE_PACKAGES = "libreoffice-writer-nogui, python3-uno, libreoffice-script-provider-python"


def available() -> str | None:
    """Why the LibreOffice tests cannot run here, or None when they can."""
    for tool in ("soffice", "unopkg"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (scripts/system-packages.sh installs it)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    if probe.returncode != 0:
        return "python3-uno not installed for /usr/bin/python3"
    return None


def install_extension(oxt: Path, profile: Path, tries: int = 2) -> None:
    """`unopkg add` into `profile`. As root, `profile` must sit in a folder others may enter (/tmp).

    unopkg now and then fails to open the registry it has just created in a fresh profile
    (InvalidRegistryException from SimpleRegistry.getRootKey, seen once in CI, not reproduced): that is
    the installer, not the extension, so a failed install is tried again once in a new profile."""
    failures = []
    for _ in range(tries):
        shutil.rmtree(profile, ignore_errors=True)
        done = _unopkg_add(oxt, profile)
        if done.returncode == 0:
            return
        failures.append(f"{done.stdout}\n{done.stderr}")
    raise RuntimeError("unopkg add failed:\n" + "\n--- again ---\n".join(failures))


def _unopkg_add(oxt: Path, profile: Path) -> subprocess.CompletedProcess:
    profile.mkdir(parents=True, exist_ok=True)
    cmd = ["unopkg", "add", "--suppress-license", f"-env:UserInstallation={profile.as_uri()}", str(oxt)]
    env = {**os.environ, "HOME": str(profile)}
    if os.geteuid() == 0:
        profile.parent.chmod(0o755)
        profile.chmod(0o777)
        oxt = shutil.copy(oxt, profile.parent / oxt.name)
        Path(oxt).chmod(0o644)
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd[:-1], str(oxt)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@dataclass
class Office:
    port: int
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, profile: Path, port: int, log: Path) -> "Office":
        cmd = ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
               f"-env:UserInstallation={profile.as_uri()}", f"--accept=socket,host=127.0.0.1,port={port};urp;"]
        process = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        office = cls(port, process, log)
        office.run({"registry": True}, timeout=90)  # waits until soffice accepts connections
        return office

    def run(self, scenario: dict, timeout: float = 120, script: Path = DRIVER) -> dict:
        """Run one driver scenario (see driver.py; or `script`'s, e.g. panel_steps.py) and return its JSON answer."""
        done = subprocess.run([SYSTEM_PYTHON, str(script), str(self.port)], input=json.dumps(scenario),
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"driver failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n--- soffice log ---\n{self.log.read_text()}")
        return json.loads(done.stdout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
