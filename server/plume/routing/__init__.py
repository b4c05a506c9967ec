"""Routing each e-mail to the service that handles it (issue 23, docs/triage.md).

- directory.py: the commune's service directory (services.toml) and the rules IT pinned;
- features.py: what of a mail is looked at, and its sentence embedding (the bundled embedder);
- classifier.py: the directory's similarity and the learned ridge classifier (sufficient statistics);
- sources.py: the clerks' service folders, over IMAP or as an export (Maildir, mbox, .eml);
- learning.py: `plume triage learn`, incremental, with cross-validated figures per service;
- store.py: what learning keeps (statistics and hashes, never a mail);
- router.py: the chain of trust at triage time (rules, learned, model, directory, default);
- evaluation.py: `plume eval --tasks triage`: agreement per field of each way of routing.

Layering: api, cli and the mailbox worker use this package; it uses tasks (triage rules and result),
mail (parsing) and inference (the embedder), never the other way round.
"""
