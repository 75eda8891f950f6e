"""Instructor tools: ``release`` student notebooks from ``solutions/`` (and, later, ``grade`` them)."""
