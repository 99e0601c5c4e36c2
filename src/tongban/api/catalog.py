"""Catalog endpoints: search and guides."""

from ninja import Router

router = Router(tags=["catalog"])
