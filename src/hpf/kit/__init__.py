"""Shared building blocks: money, identifiers, calendar, errors, database."""
