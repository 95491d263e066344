"""Helpers the test suites share (tests/conftest.py puts tests/ on the path)."""
