"""Core: regions, organizations, working-day calendar, identifiers, and cross-cutting services.

Core imports no domain.
"""
