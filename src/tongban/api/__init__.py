"""API channel: JSON under /api/v1/ with its OpenAPI document, and health endpoints."""
