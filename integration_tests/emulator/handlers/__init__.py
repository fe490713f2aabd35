"""Endpoint handlers: rest.py (campaigns, lists, channels, ...) and export.py (streaming data.json)."""
