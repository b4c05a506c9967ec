"""Reading e-mails safely: .eml, mbox and Maildir with the standard library's `email` package.

Attachments are listed, never opened or decoded to disk; HTML-only messages become plain text;
sizes are bounded so a huge or hostile message cannot exhaust the server.
"""

from plume.mail.parse import MailMessage, MessageTooLarge, from_fields, iter_mailbox, parse_message

__all__ = ["MailMessage", "MessageTooLarge", "from_fields", "iter_mailbox", "parse_message"]
