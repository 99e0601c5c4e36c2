"""``{% acting_party_label user %}``: whom the logged-in person acts for, for the page header."""

from __future__ import annotations

from django import template

from tongban.accounts.companies import acting_party

register = template.Library()


@register.simple_tag
def acting_party_of(user):
    """The :class:`~tongban.accounts.companies.ActingParty` of ``user`` (``None`` if anonymous);
    costs no query for a person acting for themself."""
    if not getattr(user, "is_authenticated", False):
        return None
    return acting_party(user)
