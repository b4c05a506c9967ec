"""The commune's mailbox, triaged in place over IMAP (docs/mailbox.md): `plume mail` and `plume serve`.

- `worker`: one account's passes (read new mail, triage, keywords, move, draft) and the watch loop;
- `client`: the IMAP connection (verified TLS, password or OAuth2 token);
- `sorting`: what the worker writes back on a message (keywords) and where it moves it;
- `state`: what the worker remembers per account (UIDs, counts, errors — never content);
- `reply`: the acknowledgement as a draft reply.

Reading one e-mail is `plume.mail` (pure parsing, used by the tasks too); this package calls the
tasks (`plume.tasks.triage`, `plume.tasks.acknowledge`), so the tasks never import it.
"""
