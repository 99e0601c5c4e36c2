"""Portal pages. Each view parses the request, calls one catalog query and renders.

The guide page and the notice are cached under the guide's stamp (id, version, ``updated_at``)
with the language and the answers, so a guide read a thousand times costs at most one indexed
query per read (none while the stamp itself is cached). The guide page is cached whole except
the header's account links, which depend on who is logged in: they are rendered per request
(:func:`account_tools`), never cached across visitors. A guide withdrawn while its stamp is
still cached answers the normal "not found" page and drops the stamp.

Bad input (a malformed region, an id past 2**63 - 1, a page past ``queries.MAX_PAGE``, a code
no implementation can have) answers 400 or 404 with a Chinese reason, never a 500.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache as memoize
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.http import http_date, url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import check_for_language, get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from tongban.catalog import guides, queries
from tongban.catalog.models import Implementation, OnlineDepth
from tongban.catalog.search import SearchError
from tongban.core.models import Region
from tongban.portal import context as portal_context
from tongban.portal import notice
from tongban.portal.forms import (
    AUDIENCE_CHOICES,
    DEPTH_CHOICES,
    AnswerError,
    SearchForm,
    parse_answers,
)

HOT_LIMIT = 8


# --------------------------------------------------------------------------------------------
# Home and branch portals (分厅)
# --------------------------------------------------------------------------------------------


@require_GET
def home(request):
    """``/``: the home region's portal, or the region kept in the session.

    ``/?region=150602`` switches to that branch portal and redirects to its shareable URL; a
    value that is no region code answers the "not found" page with the reason.
    """
    requested = request.GET.get("region", "").strip()
    if requested:
        if not guides.is_region_code(requested):
            return not_found(request, _("地区代码应为6位或12位数字，请从地区列表中选择。"))
        return HttpResponseRedirect(reverse("portal:branch", args=[requested]))
    code = portal_context.region_code_for(request)
    try:
        region = guides.region_by_code(code)
    except Region.DoesNotExist:
        region = None
    return _render_home(request, region)


@require_GET
def branch(request, code: str):
    """``/r/<code>/``: the branch portal of one city or county; remembered for later pages."""
    try:
        region = guides.region_by_code(code)
    except Region.DoesNotExist:
        return not_found(request, _("没有找到该地区的分厅，请从地区列表中选择。"))
    portal_context.remember_region(request, region.code)
    return _render_home(request, region)


def _render_home(request, region: Region | None):
    code = region.code if region else settings.TONGBAN_HOME_REGION
    themes = guides.themes_by_audience()
    context = {
        "region": region,
        "region_code": code,
        "person_themes": themes.get("1", []),
        "company_themes": themes.get("2", []),
        "departments": guides.departments(region) if region else [],
        "hot": queries.hot_implementations(code, HOT_LIMIT),
    }
    return render(request, "portal/home.html", context)


def _safe_next(request) -> str:
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return "/"
    return target


@require_GET
def care_mode(request):
    """Switch the elder-friendly mode (适老化: larger type, more contrast) on or off.

    A plain link (a display preference kept in a cookie, like the language): pages keep no
    per-visitor token, so they are served whole from the cache.
    """
    response = HttpResponseRedirect(_safe_next(request))
    if request.GET.get("on") == "1":
        response.set_cookie(
            portal_context.CARE_COOKIE,
            "1",
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    else:
        response.delete_cookie(portal_context.CARE_COOKIE, samesite="Lax")
    return response


@require_GET
def switch_language(request):
    """``/language/?language=mn-mong&next=/…``: the same cookie Django's ``set_language`` sets,
    from a link (see :func:`care_mode` for why a link)."""
    code = request.GET.get("language", "")
    response = HttpResponseRedirect(_safe_next(request))
    if code and check_for_language(code) and code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------


@require_GET
def search(request):
    form = SearchForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    result = None
    if valid:
        try:
            result = _search(data)
        except SearchError as exc:
            field = {"organization": "org"}.get(exc.field, exc.field)
            form.add_error(field if field in form.fields else None, str(exc.message))
            valid = False
    themes = guides.themes_by_audience()

    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "form": form,
        "result": result,
        "query": data.get("q", ""),
        "themes": [*themes.get("1", []), *themes.get("2", [])],
        "audience_choices": AUDIENCE_CHOICES,
        "depth_choices": DEPTH_CHOICES,
        "selected": {
            "region": request.GET.get("region", ""),
            "audience": request.GET.get("audience", ""),
            "theme": request.GET.get("theme", ""),
            "depth": request.GET.get("depth", ""),
            "org": request.GET.get("org", ""),
        },
        "chips": _chips(request.GET, themes),
        "base_query": urlencode(params),
        "depth_numerals": guides.DEPTH_NUMERALS,
    }
    return render(request, "portal/search.html", context, status=200 if valid else 400)


def _search(data: dict):
    return queries.search(
        data.get("q", ""),
        region=data.get("region") or None,
        audience=data.get("audience") or None,
        theme=data.get("theme") or None,
        organization=data.get("org"),
        depth=data.get("depth"),
        page=data.get("page", 1),
        page_size=settings.TONGBAN_SEARCH_PAGE_SIZE,
    )


def _chips(params, themes) -> list[dict]:
    """Active filters as removable chips: label and the URL without that filter."""
    names = {t.code: t.name for group in themes.values() for t in group}
    labels = {
        "audience": dict(AUDIENCE_CHOICES),
        "depth": {str(v): label for v, label in OnlineDepth.choices},
        "theme": names,
    }
    chips = []
    for key in ("region", "audience", "theme", "depth", "org"):
        value = params.get(key, "")
        if not value:
            continue
        rest = {k: v for k, v in params.items() if k not in (key, "page") and v}
        label = labels.get(key, {}).get(value, value)
        if key == "region":
            region = guides.cached_region(value)
            label = region.name if region else value
        chips.append({"key": key, "label": label, "url": "?" + urlencode(rest)})
    return chips


# --------------------------------------------------------------------------------------------
# Guide and one-time notice
# --------------------------------------------------------------------------------------------


# The header's account links ("登录", or "我的" and the acting party) depend on the visitor: the
# cached guide page holds this slot instead, filled per request by :func:`account_tools`.
ACCOUNT_SLOT = "<!--tb:account-tools-->"
ACCOUNT_TOOLS_TEMPLATE = "portal/partials/account_tools.html"
_anonymous_tools: dict[tuple[str, str], bytes] = {}


def account_tools(request, language: str | None = None) -> bytes:
    """The header's account links for this visitor, rendered as every other page renders them.

    The anonymous version is the same for everybody (per language and script prefix) and is
    kept per process; a logged-in person's is rendered for each request and never cached.
    """
    if _logged_in(request):
        return render_to_string(ACCOUNT_TOOLS_TEMPLATE, {"user": request.user}).encode()
    key = (language or get_language() or settings.LANGUAGE_CODE, get_script_prefix())
    found = _anonymous_tools.get(key)
    if found is None:
        if len(_anonymous_tools) > 32:  # languages × prefixes: a handful; never grows unbounded
            _anonymous_tools.clear()
        found = render_to_string(ACCOUNT_TOOLS_TEMPLATE, {"user": AnonymousUser()}).encode()
        _anonymous_tools[key] = found
    return found


def _logged_in(request) -> bool:
    """``request.user.is_authenticated``, without building the lazy user for a session that
    holds no login (what ``AuthenticationMiddleware``'s user would find then: anonymous)."""
    user = getattr(request, "user", None)
    if user is None:
        return False
    session = getattr(request, "session", None)
    if isinstance(user, SimpleLazyObject) and session is not None and SESSION_KEY not in session:
        return False
    return user.is_authenticated


@require_GET
def guide(request, code: str):
    """The guide page, served from the cache: the key is the guide's stamp, the language, the care
    mode, the visitor's region (shown in the header) and the answers. The cached page holds
    nothing that depends on the visitor beyond those (no CSRF token: the header has only links);
    the account links (:func:`account_tools`) go into its slot per request."""
    raw: dict[int, set[int]] = {}
    answer_error = ""
    if request.META.get("QUERY_STRING"):  # most reads have no answers: no QueryDict to build
        try:
            raw = parse_answers(request.GET)
        except AnswerError:
            answer_error = _("情形选项格式不正确，请重新选择。")
    try:
        stamp = guides.cached_guide_stamp(code)
    except Implementation.DoesNotExist:
        return _guide_not_found(request)

    query = guides.answers_query(raw)
    language = get_language()
    key = ":".join(
        [
            "portal:guide:v3",  # v3: the 在线申请 button; v2: the account slot
            stamp.key,
            language,
            "care" if portal_context.is_care_mode(request) else "std",
            portal_context.region_code_for(request),
            query,
        ]
    )
    page = cache.get(key) if not answer_error else None
    if page is None:
        try:
            parts = _render_guide(code, raw)
        except Implementation.DoesNotExist:
            # Withdrawn since the stamp was cached (for up to TONGBAN_GUIDE_STAMP_SECONDS).
            guides.forget_guide(code)
            return _guide_not_found(request)
        context = {
            "body": mark_safe(parts["body"]),  # rendered by our own template, escaped there
            "title": parts["title"],
            "description": parts["description"],
            "answer_error": answer_error,
            "code": code,
            "next_path": guides.guide_links(code, raw).guide_path,
            "account_slot": mark_safe(ACCOUNT_SLOT),
        }
        content = render_to_string("portal/guide.html", context, request=request).encode()
        head, tail = content.split(ACCOUNT_SLOT.encode(), 1)
        page = (head, tail, http_date(stamp.updated_at.timestamp()))
        if parts["cacheable"] and not answer_error:
            cache.set(key, page, guides.GUIDE_CACHE_SECONDS)
    head, tail, last_modified = page
    response = HttpResponse(b"".join((head, account_tools(request, language), tail)))
    response["Last-Modified"] = last_modified
    return response


def _render_guide(code: str, raw: dict[int, set[int]]) -> dict:
    impl = guides.guide(code)
    try:
        answers = guides.clean_answers(impl, raw)
        error = ""
    except guides.GuideError as exc:
        answers, error = {}, exc.message
    choices = guides.material_choices(impl, answers)
    name = guides.item_name(impl.item)
    notice_url = guides.guide_links(code, answers).notice_path
    url = guides.guide_links(code).guide_url  # printed in the QR code: the guide, no answers
    body = render_to_string(
        "portal/partials/guide_body.html",
        {
            "impl": impl,
            "item_name": name,
            "chosen_options": set().union(*answers.values()) if answers else set(),
            "choices": choices,
            "situations": impl.situations.all(),
            "situation_error": error,
            "depth_numeral": guides.DEPTH_NUMERALS[impl.online_depth],
            "depth_meaning": guides.DEPTH_MEANINGS[impl.online_depth],
            "notice_url": notice_url,
            "guide_url": url,
            "qr_svg": mark_safe(notice.qr_svg(url, title=_("扫码查看办事指南"))),  # segno's own SVG
            "has_forms": any(c.material.blank_form or c.material.sample_form for c in choices),
        },
    )
    return {
        "body": body,
        "title": name,
        "description": f"{impl.organization.name} · {name}",
        "cacheable": not error,
    }


@require_GET
def notice_pdf(request, code: str):
    """``/guide/<code>/notice.pdf?s<situation>=<option>``: the one-time notice, as a download."""
    try:
        raw = parse_answers(request.GET)
    except AnswerError:
        return not_found(request, _("情形选项格式不正确，请重新选择。"), status=400)
    try:
        stamp = guides.cached_guide_stamp(code)
    except Implementation.DoesNotExist:
        return _guide_not_found(request)

    # Mongolian script cannot be shaped in the PDF: the notice is printed in Chinese then.
    language = get_language()
    pdf_language = settings.LANGUAGE_CODE if language == "mn-mong" else language
    today = timezone.localdate()
    query = guides.answers_query(raw)
    key = f"portal:notice:{stamp.key}:{pdf_language}:{today.isoformat()}:{query}"
    pdf = cache.get(key)
    if pdf is None:
        with translation.override(pdf_language):
            try:
                impl = guides.guide(code)
            except Implementation.DoesNotExist:
                guides.forget_guide(code)  # withdrawn since the stamp was cached
                return _guide_not_found(request)
            try:
                answers = guides.clean_answers(impl, raw)
            except guides.GuideError as exc:
                return not_found(request, exc.message, status=400)
            pdf = notice.build_notice_pdf(
                impl,
                answers,
                guide_url=guides.guide_links(code).guide_url,
                site_name=settings.TONGBAN_SITE_NAME,
                issued_on=today,
            )
            name = guides.item_name(impl.item)
        cache.set(key, (pdf, name), guides.GUIDE_CACHE_SECONDS)
    else:
        pdf, name = pdf
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"一次性告知单-{name}.pdf"
    response["Content-Disposition"] = (
        f"attachment; filename=\"notice-{code}.pdf\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Last-Modified"] = http_date(stamp.updated_at.timestamp())
    return response


def not_found(request, message, *, status: int = 404):
    """The portal's own "not found" page, in the visitor's language."""
    return render(request, "404.html", {"message": message}, status=status)


def _guide_not_found(request):
    return not_found(request, guides.GuideErrorCode.NOT_FOUND.label)


# --------------------------------------------------------------------------------------------
# PWA: manifest, service worker, offline page
# --------------------------------------------------------------------------------------------

SHELL_FILES = [
    "portal/portal.css",
    "portal/mongolian.css",
    "portal/portal.js",
    "portal/icons/icon-192.png",
    "portal/icons/icon-512.png",
    "portal/icons/icon.svg",
]


@memoize
def shell_version() -> str:
    """A digest of the shell's files: a new one makes browsers fetch the new shell."""
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        path = finders.find(name)
        if path is None:
            raise Http404(name)
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:12]


@require_GET
@cache_control(public=True, max_age=3600)
def manifest(request):
    data = {
        "name": str(settings.TONGBAN_SITE_NAME),
        "short_name": _("通办"),
        "description": _("一体化在线政务服务平台：查指南、办事项，手机电脑都能办。"),
        "lang": "zh-Hans",
        "dir": "ltr",
        "start_url": reverse("portal:home") + "?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#0b57a4",
        "categories": ["government", "utilities"],
        "icons": [
            {"src": static("portal/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("portal/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("portal/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("portal/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(
        data,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def service_worker(request):
    context = {
        "version": shell_version(),
        "shell": json.dumps(
            [static(name) for name in SHELL_FILES] + [reverse("portal:offline")],
        ),
        "offline_url": json.dumps(reverse("portal:offline")),
    }
    response = render(
        request, "portal/sw.js", context, content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def offline(request):
    return render(request, "portal/offline.html")
