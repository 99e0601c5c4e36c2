"""Back office channel: operator pages beyond the Django admin (guide audit, imports)."""
