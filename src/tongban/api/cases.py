"""Case endpoints: the public progress query and the department-system interface (being built)."""

from ninja import Router

router = Router(tags=["办件"])
