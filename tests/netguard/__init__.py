"""Outbound-traffic detection at the system-call level (strace), for tests/test_outbound_strace.py."""
