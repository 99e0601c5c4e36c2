"""Reads behind the service guide (办事指南) and the portal around it.

A guide is one active :class:`Implementation` with every element seed 001 rows 12–24 names. The
functions here are what the portal, the API and the one-time notice (一次性告知单) share, so that
every channel shows the same guide (同源发布).

Which materials apply (seed 001 row 11, 根据提交情形分类展示申报材料)
----------------------------------------------------------------------
A material's ``conditions`` are situation options. Grouped by situation, the material applies when,
for **every** situation among them, **one** of its linked options is chosen. A material without
conditions always applies. An applicant who has not answered a situation yet sees the materials
that depend on it marked "视情形" (depends): they are listed with the unanswered situations, never
dropped silently, so that a printed notice without answers is still complete. A material is left
out only when an answered situation rules it out.

Answers are ``{situation id: {option id, …}}``. :func:`clean_answers` checks them against the
implementation (unknown situation, unknown option, several options for a single-choice question)
and raises :class:`GuideError` with a machine code and a Chinese message.

Freshness
---------
:func:`guide_stamp` returns ``(id, updated_at, version)`` with one indexed query; pages cache what
they render under that stamp. Anything that changes a guide element must save the implementation
(``Implementation.save()`` refreshes ``updated_at``), which every catalog service and the admin's
inline forms do; a change to the item (name, basis, translations, active flag) refreshes the
``updated_at`` of all its implementations through ``services.item_changed``. Caches also expire
on their own after :data:`GUIDE_CACHE_SECONDS` (an organization's name or address has no stamp of
its own: it shows after that time).

Which guides are public is ``catalog.queries.published_q`` (status, item, effective dates): the
one rule the guide, the stamp, search and the portal's lists share.
:func:`cached_guide_stamp` keeps the stamp itself for a few seconds, so that the guide page costs
no query when it is served from the cache; :func:`forget_guide` drops it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tongban.catalog import queries
from tongban.catalog.models import (
    Audience,
    CrossAreaScope,
    ExerciseLevel,
    Implementation,
    Item,
    ItemType,
    Material,
    MaterialForm,
    MaterialMedium,
    MaterialSource,
    Necessity,
    OnlineDepth,
    Situation,
    Theme,
    TimeUnit,
)
from tongban.core.levels import VerificationLevel
from tongban.core.models import Organization, Region, RegionLevel
from tongban.core.models.regions import region_prefix

# Rendered guides and portal lists may be this old at most (seconds).
GUIDE_CACHE_SECONDS = 300
PORTAL_LIST_CACHE_SECONDS = 300

# What each depth means for the applicant (seed 001 attachment 1, rows 3–6).
DEPTH_MEANINGS = {
    OnlineDepth.PUBLISHED: _("办事指南在网上发布，申请需到现场办理。"),
    OnlineDepth.PREREVIEW: _(
        "网上提交材料并预审，预审通过后携带原件到现场办理，整个过程到现场不超过2次。"
    ),
    OnlineDepth.VERIFIED: _(
        "网上提交材料并核验，作出决定后到现场核验原件、领取结果，整个过程到现场不超过1次。"
    ),
    OnlineDepth.FULLY_ONLINE: _("全程网上办理，结果邮寄或网上下载，无需到现场。"),
}
DEPTH_NUMERALS = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


class GuideErrorCode(models.TextChoices):
    """Machine codes of guide errors; the label is the message shown to people."""

    NOT_FOUND = "not_found", _("没有找到该办事指南，或该事项已暂停、废止。")
    UNKNOWN_SITUATION = "unknown_situation", _("所选情形不属于本事项，请重新选择。")
    UNKNOWN_OPTION = "unknown_option", _("所选情形选项不存在或已调整，请重新选择。")
    SINGLE_CHOICE = "single_choice", _("该情形只能选择一项，请重新选择。")


class GuideError(Exception):
    """A guide request that cannot be answered: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: GuideErrorCode, *, situation_id: int | None = None):
        self.code = GuideErrorCode(code)
        self.situation_id = situation_id
        super().__init__(self.code.value)

    @property
    def message(self) -> str:
        return str(self.code.label)


# --------------------------------------------------------------------------------------------
# Loading a guide
# --------------------------------------------------------------------------------------------


# The published rule lives in catalog.queries; named here for the guide's callers.
published_q = queries.published_q
published_implementations = queries.published_implementations

GUIDE_CODE_MAX_LENGTH = Implementation._meta.get_field("code").max_length


def is_guide_code(code: str) -> bool:
    """Whether ``code`` could be an implementation code (no query): not empty, not longer than
    the column, printable (a NUL byte is refused by PostgreSQL), no slash (not in a URL path)."""
    return (
        isinstance(code, str)
        and 0 < len(code) <= GUIDE_CODE_MAX_LENGTH
        and code.isprintable()
        and "/" not in code
    )


def guide(code: str) -> Implementation:
    """The whole guide of the published implementation ``code``, in a constant number of queries.

    Loads item (with themes and translations), organization and region, and every list: locations,
    hours, intermediaries, fees, steps, FAQ, situations with their options, materials with their
    conditions. Raises ``Implementation.DoesNotExist`` for a malformed, missing, unpublished (not
    active, item inactive, not yet or no longer effective) code.
    """
    if not is_guide_code(code):
        raise Implementation.DoesNotExist(code)
    materials = Material.objects.prefetch_related("conditions").order_by("order", "id")
    situations = Situation.objects.prefetch_related("options").order_by("order", "id")
    return (
        published_implementations()
        .select_related("item", "organization", "region")
        .prefetch_related(
            "item__themes",
            "item__translations",
            "locations",
            "hours",
            "intermediaries",
            "fees",
            "steps",
            "faqs",
            Prefetch("situations", queryset=situations),
            Prefetch("materials", queryset=materials),
        )
        .get(code=code)
    )


@dataclass(frozen=True)
class GuideStamp:
    """What identifies one version of a guide for caches."""

    id: int
    updated_at: dt.datetime
    version: int

    @property
    def key(self) -> str:
        return f"{self.id}.{self.version}.{self.updated_at.timestamp():.6f}"


def guide_stamp(code: str) -> GuideStamp:
    """One indexed query: the implementation's id, ``updated_at`` and ``version``.

    Raises ``Implementation.DoesNotExist`` exactly when :func:`guide` would. Plain SQL on the
    unique ``code`` index: it runs on every guide page view, so it skips the ORM's compiler.
    """
    if not is_guide_code(code):
        raise Implementation.DoesNotExist(code)
    quote = connection.ops.quote_name
    published, params = queries.published_sql("m", "i")
    sql = (
        f"SELECT m.id, m.updated_at, m.version FROM {quote(Implementation._meta.db_table)} m "  # noqa: S608
        f"JOIN {quote(Item._meta.db_table)} i ON i.id = m.item_id "
        f"WHERE m.code = %s AND {published}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [code, *params])
        row = cursor.fetchone()
    if row is None:
        raise Implementation.DoesNotExist(code)
    pk, updated_at, version = row
    if isinstance(updated_at, str):  # SQLite keeps datetimes as text (UTC)
        updated_at = parse_datetime(updated_at)
    if timezone.is_naive(updated_at):
        updated_at = timezone.make_aware(updated_at, dt.UTC)
    return GuideStamp(pk, updated_at, version)


def _stamp_key(code: str) -> str:
    return "catalog:stamp:" + hashlib.blake2b(code.encode(), digest_size=16).hexdigest()


def cached_guide_stamp(code: str) -> GuideStamp:
    """:func:`guide_stamp` through the cache, so that a page view served from the cache costs
    no query at all. A change is seen after ``TONGBAN_GUIDE_STAMP_SECONDS`` (default 5; 0 turns
    this cache off) in every process, at once where :func:`forget_guide` is called and the cache
    is shared (Redis). Missing codes are remembered as missing for as long.
    """
    seconds = getattr(settings, "TONGBAN_GUIDE_STAMP_SECONDS", 5)
    if seconds <= 0:
        return guide_stamp(code)
    key = _stamp_key(code)
    found = cache.get(key)
    if found is None:
        try:
            found = guide_stamp(code)
        except Implementation.DoesNotExist:
            found = False
        cache.set(key, found, seconds)
    if found is False:
        raise Implementation.DoesNotExist(code)
    return found


def forget_guide(code: str) -> None:
    """Drop the cached stamp of ``code``: the next page view reads the database again."""
    cache.delete(_stamp_key(code))


def answers_query(answers: Mapping[int, Iterable[int]]) -> str:
    """The canonical query string of answers (``s<situation>=<option>``, sorted), for links and
    cache keys."""
    parts = [f"s{sid}={oid}" for sid in sorted(answers) for oid in sorted(answers[sid])]
    return "&".join(parts)


@dataclass(frozen=True)
class GuideLinks:
    """Where a guide is read: the portal's guide page and its one-time notice (PDF), with the
    answers in the query. ``*_path`` are site-relative (for links on our own pages); ``*_url``
    are absolute under ``TONGBAN_PUBLIC_URL`` (for the API, QR codes and printed notices)."""

    guide_path: str
    notice_path: str

    @staticmethod
    def _absolute(path: str) -> str:
        return settings.TONGBAN_PUBLIC_URL.rstrip("/") + path

    @property
    def guide_url(self) -> str:
        return self._absolute(self.guide_path)

    @property
    def notice_url(self) -> str:
        return self._absolute(self.notice_path)


def guide_links(code: str, answers: Mapping[int, Iterable[int]] | None = None) -> GuideLinks:
    """The guide page and notice of ``code`` with ``answers`` (none: the bare guide)."""
    query = answers_query(answers or {})
    suffix = f"?{query}" if query else ""
    return GuideLinks(
        guide_path=reverse("portal:guide", args=[code]) + suffix,
        notice_path=reverse("portal:notice", args=[code]) + suffix,
    )


def item_name(item: Item, language: str | None = None) -> str:
    """The item's name in ``language`` (the active one by default) when a translation exists.

    Uses prefetched translations when there are any, so it adds no query inside :func:`guide`.
    """
    language = (language or get_language() or settings.LANGUAGE_CODE).lower()
    if language == settings.LANGUAGE_CODE.lower():
        return item.name
    for translation in item.translations.all():
        if translation.language.lower() == language:
            return translation.name
    return item.name


# --------------------------------------------------------------------------------------------
# Situations and materials
# --------------------------------------------------------------------------------------------

Answers = dict[int, set[int]]


def clean_answers(implementation: Implementation, raw: Mapping[int, Iterable[int]]) -> Answers:
    """Check answers against the implementation's situations (uses prefetched situations).

    Empty answers are dropped. Raises :class:`GuideError` (``unknown_situation``,
    ``unknown_option``, ``single_choice``) for the first answer that does not fit.
    """
    situations = {s.id: s for s in implementation.situations.all()}
    answers: Answers = {}
    for situation_id, chosen in raw.items():
        chosen = set(chosen)
        if not chosen:
            continue
        situation = situations.get(situation_id)
        if situation is None:
            raise GuideError(GuideErrorCode.UNKNOWN_SITUATION, situation_id=situation_id)
        options = {o.id for o in situation.options.all()}
        if not chosen <= options:
            raise GuideError(GuideErrorCode.UNKNOWN_OPTION, situation_id=situation_id)
        if len(chosen) > 1 and not situation.multiple:
            raise GuideError(GuideErrorCode.SINGLE_CHOICE, situation_id=situation_id)
        answers[situation_id] = chosen
    return answers


def answers_from_options(implementation: Implementation, option_ids: Iterable[int]) -> Answers:
    """Chosen option ids → answers grouped by situation (for the API's ``?option=``).

    Raises :class:`GuideError` ``unknown_option`` for an id that is no option of this guide;
    check the result with :func:`clean_answers` for single-choice situations.
    """
    owner = {o.id: s.id for s in implementation.situations.all() for o in s.options.all()}
    answers: Answers = {}
    for option_id in option_ids:
        if option_id not in owner:
            raise GuideError(GuideErrorCode.UNKNOWN_OPTION)
        answers.setdefault(owner[option_id], set()).add(option_id)
    return answers


@dataclass(frozen=True)
class MaterialChoice:
    """A material that applies; ``pending`` lists the unanswered situations that decide it."""

    material: Material
    pending: tuple[Situation, ...] = ()

    @property
    def depends(self) -> bool:
        """True when the material is shown as "视情形": some deciding situation is unanswered."""
        return bool(self.pending)


def material_choices(
    implementation: Implementation, answers: Mapping[int, set[int]]
) -> list[MaterialChoice]:
    """Every material that applies or may apply under ``answers``, in the guide's order.

    See the module docstring for the rule. Uses prefetched materials, conditions and situations.
    """
    situations = {s.id: s for s in implementation.situations.all()}
    result: list[MaterialChoice] = []
    for material in implementation.materials.all():
        needed: dict[int, set[int]] = {}
        for option in material.conditions.all():
            needed.setdefault(option.situation_id, set()).add(option.id)
        pending: list[Situation] = []
        excluded = False
        for situation_id, options in needed.items():
            chosen = answers.get(situation_id)
            if not chosen:
                situation = situations.get(situation_id)
                if situation is not None:
                    pending.append(situation)
                continue
            if not chosen & options:
                excluded = True
                break
        if not excluded:
            pending.sort(key=lambda s: (s.order, s.id))
            result.append(MaterialChoice(material, tuple(pending)))
    return result


def materials_for(
    implementation: Implementation, answers: Mapping[int, set[int]]
) -> list[Material]:
    """The materials an applicant with ``answers`` must bring, including those shown as "视情形".

    Use :func:`material_choices` to tell which of them still depend on an unanswered situation.
    """
    return [choice.material for choice in material_choices(implementation, answers)]


# --------------------------------------------------------------------------------------------
# The guide as JSON
# --------------------------------------------------------------------------------------------


def _choice(value, choices) -> dict | None:
    if value in (None, ""):
        return None
    return {"code": value, "label": str(dict(choices).get(value, value))}


def _file_url(field) -> str:
    if not field:
        return ""
    url = field.url
    if url.startswith("/"):
        url = settings.TONGBAN_PUBLIC_URL.rstrip("/") + url
    return url


def _limit(limit: int, unit: str, note: str) -> dict:
    return {"limit": limit, "unit": _choice(unit, TimeUnit.choices), "note": note}


def guide_as_dict(impl: Implementation, answers: Mapping[int, set[int]] | None = None) -> dict:
    """The whole guide as JSON-ready data (labels in the active language).

    ``impl`` should come from :func:`guide` (no extra queries then). With ``answers`` each
    material says whether it applies (``"applies"``: ``"yes"`` or ``"depends"``) and materials
    ruled out are left out; without them every material is listed with ``"applies"`` computed
    from no answers.
    """
    item = impl.item
    choices = material_choices(impl, answers or {})
    depth = OnlineDepth(impl.online_depth)
    return {
        "code": impl.code,
        "version": impl.version,
        "updated_at": impl.updated_at.isoformat(),
        "effective_from": impl.effective_from.isoformat() if impl.effective_from else None,
        "effective_to": impl.effective_to.isoformat() if impl.effective_to else None,
        "item": {
            "code": item.code,
            "national_code": item.national_code,
            "name": item_name(item),
            "type": _choice(item.item_type, ItemType.choices),
            "legal_basis": item.legal_basis,
            "level": _choice(item.level, ExerciseLevel.choices),
            "audiences": [_choice(a, Audience.choices) for a in item.audience_list],
            "themes": [{"code": t.code, "name": t.name} for t in item.themes.all()],
            "description": item.description,
        },
        "organization": {
            "name": impl.organization.name,
            "uscc": impl.organization.uscc,
            "phone": impl.organization.phone,
            "address": impl.organization.address,
        },
        "region": {"code": impl.region.code, "name": impl.region.name},
        "handling_code": impl.handling_code,
        "handling_unit": impl.handling_unit,
        "joint_departments": impl.joint_departments,
        "time_limits": {
            "statutory": _limit(impl.statutory_limit, impl.statutory_unit, impl.statutory_note),
            "promised": _limit(impl.promised_limit, impl.promised_unit, impl.promised_note),
            "is_instant": impl.is_instant,
        },
        "online_depth": {
            "level": int(depth),
            "numeral": DEPTH_NUMERALS[int(depth)],
            "label": str(depth.label),
            "meaning": str(DEPTH_MEANINGS[depth]),
        },
        "visits_required": impl.visits_required,
        "required_level": {
            "level": impl.required_level,
            "label": str(VerificationLevel(impl.required_level).label),
        },
        "handling_forms": {
            "window": impl.handle_at_window,
            "pc": impl.handle_on_pc,
            "mobile": impl.handle_on_mobile,
            "post": impl.handle_by_post,
            "online_url": impl.online_url,
        },
        "conditions": impl.conditions,
        "quantity_limit": impl.quantity_limit,
        "jurisdiction": impl.jurisdiction,
        "cross_area": _choice(impl.cross_area, CrossAreaScope.choices),
        "result": {"name": impl.result_name, "sample_url": _file_url(impl.result_sample)},
        "fees": {
            "charges_fee": impl.charges_fee,
            "items": [
                {"name": f.name, "standard": f.standard, "basis": f.basis, "reducible": f.reducible}
                for f in impl.fees.all()
            ],
        },
        "phones": {"consultation": impl.consultation_phone, "complaint": impl.complaint_phone},
        "intermediaries": [
            {"name": i.name, "basis": i.basis, "is_special_step": i.is_special_step}
            for i in impl.intermediaries.all()
        ],
        "channels": {
            "appointment": impl.supports_appointment,
            "online_payment": impl.supports_online_payment,
            "express": impl.supports_express,
        },
        "delivery": {
            "window": impl.deliver_at_window,
            "express": impl.deliver_by_express,
            "online": impl.deliver_online,
        },
        "locations": [
            {
                "name": loc.name,
                "street": loc.street,
                "number": loc.number,
                "room": loc.room,
                "window": loc.window,
                "note": loc.note,
            }
            for loc in impl.locations.all()
        ],
        "hours": [
            {
                "weekday_from": h.weekday_from,
                "weekday_to": h.weekday_to,
                "opens": h.opens.strftime("%H:%M"),
                "closes": h.closes.strftime("%H:%M"),
                "note": h.note,
                "text": str(h),
            }
            for h in impl.hours.all()
        ],
        "steps": [
            {
                "order": s.order,
                "name": s.name,
                "actor": s.actor,
                "time_limit": s.time_limit,
                "time_unit": _choice(s.time_unit, TimeUnit.choices),
                "standard": s.standard,
                "result": s.result,
            }
            for s in impl.steps.all()
        ],
        "faqs": [{"question": q.question, "answer": q.answer} for q in impl.faqs.all()],
        "situations": [
            {
                "id": s.id,
                "question": s.question,
                "multiple": s.multiple,
                "options": [{"id": o.id, "label": o.label} for o in s.options.all()],
                "answer": sorted((answers or {}).get(s.id, ())),
            }
            for s in impl.situations.all()
        ],
        "materials": [
            {
                "id": c.material.id,
                "name": c.material.name,
                "source": _choice(c.material.source, MaterialSource.choices),
                "issuer": c.material.issuer,
                "originals": c.material.originals,
                "copies": c.material.copies,
                "form": _choice(c.material.form, MaterialForm.choices),
                "medium": _choice(c.material.medium, MaterialMedium.choices),
                "necessity": _choice(c.material.necessity, Necessity.choices),
                "needs_filling": c.material.needs_filling,
                "blank_form_url": _file_url(c.material.blank_form),
                "sample_form_url": _file_url(c.material.sample_form),
                "requirements": c.material.requirements,
                "note": c.material.note,
                "condition_option_ids": sorted(o.id for o in c.material.conditions.all()),
                "applies": "depends" if c.depends else "yes",
                "pending_situation_ids": [s.id for s in c.pending],
            }
            for c in choices
        ],
    }


# --------------------------------------------------------------------------------------------
# What the portal's home page lists around the guides (cached, refreshed every few minutes)
# --------------------------------------------------------------------------------------------


def themes_by_audience() -> dict[str, list[Theme]]:
    """Themes for persons (``"1"``) and companies (``"2"``), in their order. Cached."""
    key = "catalog:themes:v1"
    themes = cache.get(key)
    if themes is None:
        themes = list(Theme.objects.order_by("audience", "order", "code"))
        cache.set(key, themes, PORTAL_LIST_CACHE_SECONDS)
    grouped: dict[str, list[Theme]] = {Audience.PERSON: [], Audience.ENTERPRISE: []}
    for theme in themes:
        grouped.setdefault(theme.audience, []).append(theme)
    return grouped


@dataclass(frozen=True)
class BranchRegion:
    """A region that has its own branch portal (分厅): it or a child carries services."""

    code: str
    name: str
    level: int
    parent_code: str


def _parent_code(region: Region) -> str:
    if region.level == RegionLevel.COUNTY:
        return region.code[:4] + "00"
    if region.level == RegionLevel.CITY:
        return region.code[:2] + "0000"
    return ""


def branch_regions(province_code: str) -> list[BranchRegion]:
    """Cities and counties of the province that carry published implementations, city first.

    A city is listed when it or any of its counties has an implementation. Cached.
    """
    prefix = region_prefix(province_code)
    key = f"catalog:branches:{prefix}:v1"
    found = cache.get(key)
    if found is not None:
        return found
    codes = set(
        published_implementations()
        .filter(region_code__startswith=prefix)
        .order_by()
        .values_list("region_code", flat=True)
        .distinct()
    )
    wanted = set()
    for code in codes:
        six = code[:6]
        if not six.endswith("00"):
            wanted.add(six)
        if not six.endswith("0000"):
            wanted.add(six[:4] + "00")
    regions = Region.objects.filter(
        code__in=wanted, level__in=[RegionLevel.CITY, RegionLevel.COUNTY], is_active=True
    ).order_by("code")
    found = [
        BranchRegion(
            code=r.code,
            name=r.name,
            level=r.level,
            parent_code=_parent_code(r),
        )
        for r in regions
    ]
    cache.set(key, found, PORTAL_LIST_CACHE_SECONDS)
    return found


def is_region_code(code: str) -> bool:
    """Whether ``code`` has the shape of a region code: 6, 9 or 12 ASCII digits (no query)."""
    return isinstance(code, str) and code.isascii() and code.isdigit() and len(code) in (6, 9, 12)


def cached_region(code: str) -> BranchRegion | None:
    """An active region by code from the cache (``None`` when there is no such region)."""
    if not is_region_code(code):
        return None
    key = f"catalog:region:{code}:v1"
    found = cache.get(key)
    if found is None:
        region = Region.objects.filter(code=code, is_active=True).first()
        found = (
            BranchRegion(
                code=region.code,
                name=region.name,
                level=region.level,
                parent_code=_parent_code(region),
            )
            if region
            else False
        )
        cache.set(key, found, PORTAL_LIST_CACHE_SECONDS)
    return found or None


def region_by_code(code: str) -> Region:
    """An active region by its code; raises ``Region.DoesNotExist``."""
    if not is_region_code(code):
        raise Region.DoesNotExist(code)
    return Region.objects.get(code=code, is_active=True)


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    uscc: str
    services: int


def departments(region: Region) -> list[Department]:
    """The region's own departments that carry published implementations, with how many. Cached."""
    key = f"catalog:departments:{region.code}:v1"
    found = cache.get(key)
    if found is not None:
        return found
    rows = (
        Organization.objects.filter(region=region, is_active=True)
        .annotate(services=Count("implementations", filter=published_q(prefix="implementations__")))
        .filter(services__gt=0)
        .order_by("-services", "name")
        .values_list("id", "name", "uscc", "services")
    )
    found = [Department(*row) for row in rows]
    cache.set(key, found, PORTAL_LIST_CACHE_SECONDS)
    return found
