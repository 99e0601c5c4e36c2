"""The license wallet (我的证照), showing a license by QR (亮证), and the public verify page.

The QR a holder shows is a link to ``/licenses/verify?p=<signed payload>`` that expires in a
minute (:func:`tongban.licenses.presentation.present`), so a phone camera opens the verify page;
the QR printed on a license PDF is ``/licenses/verify?id=<identifier>``. The verify page shows
the result and the masked license, nothing else, and every check is audited.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from tongban.core.audit import request_context
from tongban.licenses import presentation
from tongban.licenses.errors import LicenseError
from tongban.licenses.models import License
from tongban.licenses.queries import held_by
from tongban.licenses.render import render_pdf
from tongban.portal.notice import qr_svg


@never_cache
@login_required
def wallet(request):
    rows = (
        held_by(request.user)
        .select_related("license_type", "issuer", "company")
        .order_by("-issued_at", "-id")
    )
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    return render(request, "portal/licenses/wallet.html", {"page": page})


def _held(request, pk: int) -> License:
    lic = (
        held_by(request.user)
        .select_related("license_type", "issuer", "company")
        .filter(pk=pk)
        .first()
    )
    if lic is None:
        raise Http404
    return lic


@never_cache
@login_required
def show(request, pk: int):
    """亮证: a fresh one-minute QR each time the page is opened or refreshed."""
    lic = _held(request, pk)
    try:
        payload = presentation.present(lic, holder_user=request.user, **request_context(request))
    except LicenseError as exc:
        return render(request, "portal/licenses/show.html", {"lic": lic, "error": exc}, status=409)
    url = request.build_absolute_uri(reverse("portal:license_verify")) + "?p=" + payload
    return render(
        request,
        "portal/licenses/show.html",
        {
            "lic": lic,
            "qr": qr_svg(url, title=_("亮证二维码")),
            "url": url,
            "ttl": presentation.DEFAULT_TTL,
            "view": presentation.masked_view(lic),
        },
    )


@never_cache
@login_required
def pdf(request, pk: int):
    lic = _held(request, pk)
    response = HttpResponse(render_pdf(lic), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{lic.identifier}.pdf"'
    return response


@never_cache
def verify(request):
    """核验: by a holder's QR payload (``p``) or a printed identifier (``id``)."""
    ctx = request_context(request)
    payload = request.GET.get("p", "")
    identifier = request.GET.get("id", "")
    result = None
    if payload:
        result = presentation.verify_presentation(payload, **ctx)
    elif identifier:
        result = presentation.verify_identifier(identifier, **ctx)
    return render(
        request,
        "portal/licenses/verify.html",
        {"result": result, "view": result.license if result else None},
        status=200 if result is None or result.license else 404,
    )
