"""Custom components the manifest names as `source_iterable.components.<Class>`.

Each lives in a module named for its job and is re-exported here, so the manifest never depends on file layout.
"""
