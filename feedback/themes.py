"""Themes placeholder (filled in below)."""
