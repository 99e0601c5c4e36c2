"""Back-office registrations for core data, one module per area."""

from tongban.core.admin import audit, calendar, regions  # noqa: F401
