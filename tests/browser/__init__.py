"""Helpers for the real-browser test (tests/test_browser.py) and its small notebook."""
