"""Test machinery: throwaway PostgreSQL and Redis servers, migrated template databases."""
