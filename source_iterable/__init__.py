"""Airbyte source connector for Iterable."""
