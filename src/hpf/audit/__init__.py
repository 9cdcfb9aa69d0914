"""The security audit trail (安全审计): an append-only, hash-chained log of logins, service calls
and management changes."""
