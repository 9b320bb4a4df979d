"""Test doubles for external services, so tests run offline and deterministically."""
