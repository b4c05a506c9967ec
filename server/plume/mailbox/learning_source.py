"""The service folders of an IMAP mailbox, read-only, for `plume triage learn`: the same connection
as the mailbox worker (TLS, checks, OAuth2), headers and flags first, a body only when learning
needs it (plume.routing.sources gives the shape, `FiledMail`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plume.mail.parse import MAX_MESSAGE_BYTES, parse_message
from plume.mailbox.client import connect
from plume.mailbox.sorting import keyword
from plume.routing.directory import Directory
from plume.routing.sources import KEY_HEADERS, MAX_PER_FOLDER, FiledMail, mail_key, service_of


def imap_mails(account, folders: dict[str, str], directory: Directory, known: Callable[[bytes, str], bool],
               skipped: Callable[[str], None]) -> Iterator[FiledMail]:
    """The mails of the account's service folders, read-only. Headers and flags first; a body is
    fetched only for a mail `known(key, service)` says learning has not counted under this service
    (the others come with `read` None)."""
    by_keyword = {keyword(name, account.keyword_prefix).lower(): name for name in directory.names}
    client = connect(account)
    try:
        existing = {name for flags, _, name in client.list_folders() if b"\\Noselect" not in flags}
        for folder in sorted(existing):
            service = service_of(folder, folders, directory)
            if service is None:
                if folder in folders:
                    skipped(folder)
                continue
            yield from _imap_folder(client, folder, service, by_keyword, known)
        for folder in sorted(set(folders) - existing):
            skipped(folder)
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing more to do
            pass


def _imap_folder(client, folder: str, service: str, by_keyword: dict[str, str],
                 known: Callable[[bytes, str], bool]) -> Iterator[FiledMail]:
    client.select_folder(folder, readonly=True)
    uids = sorted(client.search(["ALL"]))[-MAX_PER_FOLDER:]
    for start in range(0, len(uids), 200):
        batch = uids[start:start + 200]
        heads = client.fetch(batch, ["FLAGS", "RFC822.SIZE", f"BODY.PEEK[HEADER.FIELDS ({' '.join(KEY_HEADERS)})]"])
        wanted = {}
        for uid, item in heads.items():
            header = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"") or b""
            key = mail_key(header)
            plume = next((by_keyword[f] for f in (_text(f).lower() for f in item.get(b"FLAGS", ())) if f in by_keyword),
                         None)
            small = item.get(b"RFC822.SIZE", 0) <= MAX_MESSAGE_BYTES
            wanted[uid] = (key, plume if plume != service else None, small and not known(key, service))
        bodies = client.fetch(sorted(u for u, (_, _, fetch) in wanted.items() if fetch), ["BODY.PEEK[]"]) \
            if any(fetch for _, _, fetch in wanted.values()) else {}
        for uid, (key, plume, fetch) in wanted.items():
            raw = bodies.get(uid, {}).get(b"BODY[]") if fetch else None
            read = (lambda raw=raw, name=f"{folder}#{uid}": parse_message(raw, name)) if raw is not None else None
            yield FiledMail(key, folder, service, plume, read)


def _text(flag) -> str:
    return flag.decode("utf-8", "replace") if isinstance(flag, bytes) else str(flag)
