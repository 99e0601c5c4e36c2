"""Catalog (事项库): items, implementations and their complete service guides."""
