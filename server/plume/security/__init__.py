"""Tokens, roles, the audit log and input limits."""
