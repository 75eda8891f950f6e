"""Instructor tools: ``release`` student notebooks from ``solutions/`` and ``grade`` the submissions."""
