"""Reads of the catalog that are reused or must be fast.

What "published" means
----------------------
A citizen may read an implementation (its guide, a search hit, a department's count) exactly
when it is **published**: status ``active``, its item active, and today's date (in
``settings.TIME_ZONE``, Asia/Shanghai) within its effective dates (``effective_from`` empty or
not after today, ``effective_to`` empty or not before today). :func:`published_q` says it for the
ORM, :func:`published_sql` for hand-written SQL; both are built from the same date and values,
and ``tests/catalog/test_search.py`` checks that they agree row for row.
"""

from __future__ import annotations

# ============================================================================================
# Search (owner: search). Self-contained: guide queries follow below this part.
# ============================================================================================
import datetime as dt
import math
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.catalog.models import Audience, Implementation, ImplementationStatus, Item, OnlineDepth
from tongban.catalog.search import (
    MAX_QUERY_LENGTH,
    QueryTerm,
    SearchError,
    SearchErrorCode,
    match_sql,
    normalize_query,
)
from tongban.core.models import Organization
from tongban.core.models.regions import Region, RegionLevel, region_prefix

# At most this many items are ranked per query (the best by relevance × popularity among those
# with an implementation that passes the filters). Their implementations are what a query
# returns and counts, so the cost of a query is bounded by this number and the implementations
# of these items, not by the size of the catalog. 200 items are 10 pages of distinct services.
CANDIDATE_ITEMS = 200
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 20
HOT_LIMIT_MAX = 50
# Deeper pages are refused in every channel: nobody reads page 501, crawlers must not make us.
MAX_PAGE = 500
# The largest id a database column holds (a signed 64-bit integer): larger ids are malformed,
# never sent to the database (they overflow SQLite's and PostgreSQL's bigint).
MAX_ID = 2**63 - 1

# ASCII digits only: ``\d`` would accept other scripts' digits too.
_REGION_CODE = re.compile(r"^[0-9]{6}(?:[0-9]{6})?$")
_THEME_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")


# --------------------------------------------------------------------------------------------
# Published implementations: one rule for every channel (see the module docstring)
# --------------------------------------------------------------------------------------------


def published_on() -> dt.date:
    """Today in the platform's time zone: the date effective dates are compared with."""
    return timezone.localdate()


def published_q(prefix: str = "", *, today: dt.date | None = None) -> Q:
    """The ORM condition for a published implementation; ``prefix`` names the relation from
    the queried model (``"implementations__"`` from an organization)."""
    today = today or published_on()
    return (
        Q(**{f"{prefix}status": ImplementationStatus.ACTIVE, f"{prefix}item__is_active": True})
        & (
            Q(**{f"{prefix}effective_from__isnull": True})
            | Q(**{f"{prefix}effective_from__lte": today})
        )
        & (
            Q(**{f"{prefix}effective_to__isnull": True})
            | Q(**{f"{prefix}effective_to__gte": today})
        )
    )


def published_implementations(*, today: dt.date | None = None) -> QuerySet[Implementation]:
    """Implementations a citizen may read."""
    return Implementation.objects.filter(published_q(today=today))


def published_sql(
    implementation: str = "m", item: str | None = "i", *, today: dt.date | None = None
) -> tuple[str, list]:
    """:func:`published_q` as SQL on an implementation aliased ``implementation`` and its item
    aliased ``item``. ``item=None`` leaves out the item's condition, for a query that already
    reads only active items (search filters items first, with the same ``{item}.is_active``
    from :func:`published_item_sql`)."""
    today = today or published_on()
    m = implementation
    sql = (
        f"{m}.status = %s"
        f" AND ({m}.effective_from IS NULL OR {m}.effective_from <= %s)"
        f" AND ({m}.effective_to IS NULL OR {m}.effective_to >= %s)"
    )
    params: list = [ImplementationStatus.ACTIVE.value, today, today]
    if item is not None:
        sql = f"{published_item_sql(item)} AND {sql}"
    return sql, params


def published_item_sql(item: str = "i") -> str:
    """The item's part of the published rule, as SQL on an item aliased ``item``."""
    return f"{item}.is_active"


@dataclass(frozen=True)
class SearchHit:
    """One implementation in a result list: what a result card shows and links to."""

    implementation_id: int
    implementation_code: str
    item_id: int
    item_code: str
    item_name: str
    organization_id: int
    organization_name: str
    region_code: str
    region_name: str
    online_depth: int
    is_instant: bool
    promised_limit: int
    promised_unit: str
    popularity: int
    item_popularity: int

    @property
    def online_depth_label(self) -> str:
        return str(OnlineDepth(self.online_depth).label)


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchHit]
    total: int
    page: int
    page_size: int
    pages: int
    query_terms: list[str] = field(default_factory=list)
    # Item names that match some but not all words, offered when nothing matched all of them.
    suggestions: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class SearchFilters:
    region: str | None = None
    audience: str | None = None
    theme: str | None = None
    organization: int | None = None
    depth: int | None = None


def _region_level(code: str) -> int:
    """The level a code denotes by its layout (no query): 150000 province … 150602001001 village."""
    if len(code) == 12:
        if code.endswith("000000"):
            return _region_level(code[:6])
        return RegionLevel.TOWNSHIP if code.endswith("000") else RegionLevel.VILLAGE
    if code.endswith("0000"):
        return RegionLevel.PROVINCE
    return RegionLevel.CITY if code.endswith("00") else RegionLevel.COUNTY


def region_scope(code: str) -> tuple[str, str | None, list[str]]:
    """(low, high, ancestors): implementations serving ``code`` have ``low <= region_code < high``
    (the region and its descendants; ``high`` None means unbounded) or a region code among
    ``ancestors`` (a provincial implementation serves every county). No query."""
    prefix = region_prefix(code)
    high = str(int(prefix) + 1).zfill(len(prefix)) if prefix.strip("9") else None
    ancestors = Region(code=code, level=_region_level(code)).ancestor_codes()
    return prefix, high, ancestors


def _validate(filters: SearchFilters, page: int, page_size: int) -> None:
    if filters.region is not None and not _REGION_CODE.match(filters.region):
        raise SearchError(SearchErrorCode.INVALID_REGION, "region")
    if filters.audience is not None and filters.audience not in Audience.values:
        raise SearchError(SearchErrorCode.INVALID_AUDIENCE, "audience")
    if filters.theme is not None and not _THEME_CODE.match(filters.theme):
        raise SearchError(SearchErrorCode.INVALID_THEME, "theme")
    if filters.organization is not None and (
        isinstance(filters.organization, bool)
        or not isinstance(filters.organization, int)
        or not 1 <= filters.organization <= MAX_ID
    ):
        raise SearchError(SearchErrorCode.INVALID_ORGANIZATION, "organization")
    if filters.depth is not None and filters.depth not in OnlineDepth.values:
        raise SearchError(SearchErrorCode.INVALID_DEPTH, "depth")
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise SearchError(SearchErrorCode.INVALID_PAGE, "page")
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not (1 <= page_size <= MAX_PAGE_SIZE)
    ):
        raise SearchError(SearchErrorCode.INVALID_PAGE_SIZE, "page_size")


def _scoped_sql(
    filters: SearchFilters, item_column: str, item_params: tuple = ()
) -> list[tuple[str, list]]:
    """WHERE conditions on implementations (alias m) of active items that pass the filters
    (published, in the region or at one of its ancestors, of the organization, at least the
    depth), split into disjoint region scopes (the code range of the region and its
    descendants; each of its ancestors' codes), so that each is a tight range of the (item,
    region_code) index of active implementations (``impl_published``, PostgreSQL) instead of an
    OR filter. ``item_column`` follows ``m.item_id``: ``= i.id``, or ``IN (%s, …)`` with
    ``item_params``."""
    published, published_params = published_sql("m", None)
    base = [f"m.item_id {item_column}", published]
    base_params = [*item_params, *published_params]
    if filters.organization is not None:
        base.append("m.organization_id = %s")
        base_params.append(filters.organization)
    if filters.depth is not None:
        base.append("m.online_depth >= %s")
        base_params.append(filters.depth)
    if not filters.region:
        return [(" AND ".join(base), base_params)]
    low, high, ancestors = region_scope(filters.region)
    descendants = "m.region_code >= %s" + (" AND m.region_code < %s" if high else "")
    scopes = [(" AND ".join([*base, descendants]), [*base_params, low, *([high] if high else [])])]
    # One equality per ancestor (at most three), not ``IN (…)``: PostgreSQL may apply an IN
    # list on the second index column as a filter over every implementation of the item.
    scopes += [
        (" AND ".join([*base, "m.region_code = %s"]), [*base_params, ancestor])
        for ancestor in ancestors
    ]
    return scopes


# PostgreSQL keeps, per item, its active implementations without effective dates in this column
# (statement triggers, migration 0003_search_counts); unknown to the ORM.
UNDATED_COUNT_COLUMN = "active_undated_count"


def _uses_undated_count(filters: SearchFilters) -> bool:
    """Whether an item's matching implementations are its published ones (no region,
    organization or depth filter) and PostgreSQL holds their count: then that count plus the
    dated ones replaces reading every implementation of the item."""
    return (
        connection.vendor == "postgresql"
        and not filters.region
        and filters.organization is None
        and filters.depth is None
    )


def _dated_sql(item_column: str) -> tuple[str, list]:
    """Published implementations of the item that have an effective date (the ones
    ``active_undated_count`` leaves out), on the partial index ``impl_published_dated``."""
    published, params = published_sql("m", None)
    return (
        f"m.item_id = {item_column} AND {published}"
        " AND (m.effective_from IS NOT NULL OR m.effective_to IS NOT NULL)",
        params,
    )


def _exists_sql(filters: SearchFilters, item_column: str) -> tuple[str, list]:
    """Whether the item has an implementation in one of the scopes. Written as correlated
    ``(SELECT 1 … LIMIT 1)`` probes joined by COALESCE (evaluated in order, stopping at the
    first hit) rather than ``EXISTS … OR EXISTS``, which PostgreSQL may turn into a hashed
    subplan that reads every implementation of the ancestor regions."""
    if _uses_undated_count(filters):
        dated, params = _dated_sql(item_column)
        return (
            f"(i.{UNDATED_COUNT_COLUMN} > 0 OR (SELECT 1 FROM catalog_implementation m "  # noqa: S608
            f"WHERE {dated} LIMIT 1) IS NOT NULL)",
            params,
        )
    scopes = _scoped_sql(filters, f"= {item_column}")
    probes = ", ".join(
        f"(SELECT 1 FROM catalog_implementation m WHERE {where} LIMIT 1)"  # noqa: S608
        for where, _ in scopes
    )
    sql = f"COALESCE({probes}, NULL) IS NOT NULL" if len(scopes) > 1 else f"{probes} IS NOT NULL"
    return f"({sql})", [p for _, params in scopes for p in params]


def _count_sql(filters: SearchFilters, item_column: str) -> tuple[str, list]:
    """The number of the item's implementations that pass the filters. ``item_column`` is the
    item's id in a subquery that also has its ``undated`` count (see :func:`candidates_sql`)."""
    if _uses_undated_count(filters):
        dated, params = _dated_sql(item_column)
        undated = item_column.rsplit(".", 1)[0] + ".undated"
        return (
            f"({undated} + (SELECT COUNT(*) FROM catalog_implementation m WHERE {dated}))",  # noqa: S608
            params,
        )
    scopes = _scoped_sql(filters, f"= {item_column}")
    sql = " + ".join(
        f"(SELECT COUNT(*) FROM catalog_implementation m WHERE {where})"  # noqa: S608
        for where, _ in scopes
    )
    return f"({sql})", [p for _, params in scopes for p in params]


def _item_sql(filters: SearchFilters) -> tuple[str, list]:
    through = Item.themes.through._meta.db_table
    sql = [published_item_sql("i")]
    params: list = []
    if filters.audience:
        sql.append("(',' || i.audiences || ',') LIKE %s")
        params.append(f"%,{filters.audience},%")
    if filters.theme:
        sql.append(
            f"EXISTS (SELECT 1 FROM {through} it JOIN catalog_theme t ON t.id = it.theme_id "  # noqa: S608
            "WHERE it.item_id = i.id AND t.code = %s)"
        )
        params.append(filters.theme)
    return " AND ".join(sql), params


def candidates_sql(
    terms: list[QueryTerm], filters: SearchFilters, *, limit: int, with_counts: bool = True
) -> tuple[str, list]:
    """The SQL of :func:`_candidates` and its parameters (also for EXPLAIN in tests)."""
    exists_sql, impl_params = _exists_sql(filters, "i.id")
    item_sql, item_params = _item_sql(filters)
    undated = (
        f", i.{UNDATED_COUNT_COLUMN} AS undated"
        if with_counts and _uses_undated_count(filters)
        else ""
    )
    if terms:
        text = match_sql(terms)
        inner = (
            f"SELECT i.id AS id, {text.rank_sql} * LN(2 + i.popularity) AS score, "  # noqa: S608
            f"i.popularity AS popularity{undated} FROM catalog_item i{text.from_sql} "
            f"WHERE {text.where_sql} AND {item_sql} "
            f"AND {exists_sql} ORDER BY score DESC, i.popularity DESC, i.id LIMIT %s"
        )
        params = [
            *text.rank_params,
            *text.from_params,
            *text.where_params,
            *item_params,
            *impl_params,
            limit,
        ]
    else:
        inner = (
            "SELECT i.id AS id, LN(2 + i.popularity) AS score, "  # noqa: S608
            f"i.popularity AS popularity{undated} FROM catalog_item i WHERE {item_sql} "
            f"AND {exists_sql} ORDER BY i.popularity DESC, i.id LIMIT %s"
        )
        params = [*item_params, *impl_params, limit]
    if with_counts:
        count, count_params = _count_sql(filters, "c.id")
        params = [*count_params, *params]
    else:
        count = "1"
    sql = (
        f"SELECT c.id, c.score, {count} FROM ({inner}) c "  # noqa: S608
        "ORDER BY c.score DESC, c.popularity DESC, c.id"
    )
    return sql, params


def _candidates(
    terms: list[QueryTerm], filters: SearchFilters, *, limit: int, with_counts: bool = True
) -> list[tuple[int, float, int]]:
    """The best ``limit`` items (id, score, number of matching implementations) in rank order.

    Score = text relevance (ts_rank / bm25) × ln(2 + item popularity); without terms, item
    popularity alone. An item counts only when one of its implementations passes the filters
    (probes on the ``impl_published`` index; on PostgreSQL without a region, organization or
    depth filter, the item's ``active_undated_count`` plus its dated implementations). One
    query.
    """
    sql, params = candidates_sql(terms, filters, limit=limit, with_counts=with_counts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], float(row[1] or 0), int(row[2])) for row in cursor.fetchall()]


_HIT_COLUMNS = (
    "m.id, m.code, m.item_id, i.code, i.name, m.organization_id, o.name, r.code, r.name, "
    "m.online_depth, m.is_instant, m.promised_limit, m.promised_unit, m.popularity, i.popularity"
)


def _hit(row: tuple) -> SearchHit:
    return SearchHit(*row[:10], bool(row[10]), *row[11:15])


def _ranked_sql(filters: SearchFilters, item_ids: list[int]) -> tuple[str, list]:
    """Implementations of these items that pass the filters, numbered ``rn`` 1… within each item
    by popularity (then id), joined to what a hit shows. Columns: _HIT_COLUMNS, rn."""
    placeholders = ", ".join(["%s"] * len(item_ids))
    # One tight index range per item and region scope (disjoint scopes: UNION ALL).
    scopes = _scoped_sql(filters, f"IN ({placeholders})", tuple(item_ids))
    matching = " UNION ALL ".join(
        f"SELECT m.id, m.item_id, m.popularity FROM catalog_implementation m WHERE {where}"  # noqa: S608
        for where, _ in scopes
    )
    organizations = Organization._meta.db_table
    regions = Region._meta.db_table
    sql = (
        f"SELECT {_HIT_COLUMNS}, t.rn FROM ("  # noqa: S608
        "SELECT s.id, s.item_id, ROW_NUMBER() OVER "
        "(PARTITION BY s.item_id ORDER BY s.popularity DESC, s.id)"
        f" AS rn FROM ({matching}) s"
        ") t JOIN catalog_implementation m ON m.id = t.id "
        "JOIN catalog_item i ON i.id = m.item_id "
        f"JOIN {organizations} o ON o.id = m.organization_id "
        f"JOIN {regions} r ON r.id = m.region_id"
    )
    return sql, [p for _, params in scopes for p in params]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _page_rows(
    candidates: list[tuple[int, float, int]], filters: SearchFilters, offset: int, size: int
) -> list[SearchHit]:
    """Rows ``offset+1 … offset+size`` of the result list ordered by item rank, then by
    implementation popularity: only the items that span the page are read (one query)."""
    bases: list[tuple[int, int]] = []
    before = 0
    for item_id, _score, count in candidates:
        if before + count > offset and before < offset + size:
            bases.append((item_id, before))
        before += count
    if not bases:
        return []
    ranked, params = _ranked_sql(filters, [item_id for item_id, _ in bases])
    position = "CASE t.item_id " + "WHEN %s THEN %s " * len(bases) + "END + t.rn"
    sql = f"{ranked} WHERE {position} > %s AND {position} <= %s ORDER BY {position}"
    case_params = [value for pair in bases for value in pair]
    rows = _fetch(sql, [*params, *case_params, offset, *case_params, offset + size, *case_params])
    return [_hit(row) for row in rows]


def _suggestions(terms: list[QueryTerm], filters: SearchFilters, limit: int = 5) -> list[str]:
    """Names of the best items matching any one word of the query, offered when no item matched
    all of them (two queries, only then)."""
    any_word = QueryTerm(
        text=" ".join(term.text for term in terms),
        alternatives=tuple(alt for term in terms for alt in term.alternatives),
    )
    ids = [
        item_id
        for item_id, _, _ in _candidates([any_word], filters, limit=limit, with_counts=False)
    ]
    names = dict(Item.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [names[i] for i in ids if i in names]


def search(
    q: str,
    *,
    region: str | None = None,
    audience: str | None = None,
    theme: str | None = None,
    organization: int | None = None,
    depth: int | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> SearchPage:
    """Published implementations matching a query, best first.

    ``q`` is Chinese words, pinyin (``hunyin``), initials (``hydj``), traditional characters or
    an item code, at most ``MAX_QUERY_LENGTH`` characters; an empty ``q`` browses by
    popularity. Filters: ``region`` (a region code: the region, its descendants and its
    ancestors' implementations), ``audience`` (服务对象 code), ``theme`` (theme code),
    ``organization`` (id), ``depth`` (minimum online depth 1–4).

    Only published implementations (:func:`published_q`). Ranking: item relevance × ln(2 + item
    popularity), then implementation popularity. Only the best ``CANDIDATE_ITEMS`` items are
    ranked, so ``total`` counts the implementations of at most that many items.

    Queries: at most three (synonyms, candidate items with counts, the page), whatever the size
    of the catalog; the first call in a process adds one to load the catalog's words. Raises
    :class:`SearchError` for a malformed parameter.
    """
    filters = SearchFilters(region, audience or None, theme or None, organization, depth)
    _validate(filters, page, page_size)
    if len(q or "") > MAX_QUERY_LENGTH:
        raise SearchError(SearchErrorCode.QUERY_TOO_LONG, "q")
    terms = normalize_query(q)
    candidates = _candidates(terms, filters, limit=CANDIDATE_ITEMS)
    total = sum(count for _, _, count in candidates)
    pages = max(1, math.ceil(total / page_size))
    results = _page_rows(candidates, filters, (page - 1) * page_size, page_size)
    suggestions = _suggestions(terms, filters) if terms and not total and len(terms) > 1 else []
    return SearchPage(
        results=results,
        total=total,
        page=page,
        page_size=page_size,
        pages=pages,
        query_terms=[term.text for term in terms],
        suggestions=suggestions,
    )


def hot_implementations(region: str | None = None, limit: int = 8) -> list[SearchHit]:
    """The most popular services for a home page: the ``limit`` most popular items that have a
    published implementation serving ``region`` (itself, descendants, ancestors), each with its
    most popular such implementation. Two queries."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= HOT_LIMIT_MAX:
        raise SearchError(SearchErrorCode.INVALID_PAGE_SIZE, "limit")
    filters = SearchFilters(region=region)
    _validate(filters, 1, 1)
    items = [item_id for item_id, _, _ in _candidates([], filters, limit=limit, with_counts=False)]
    if not items:
        return []
    ranked, params = _ranked_sql(filters, items)
    order = "CASE t.item_id " + "WHEN %s THEN %s " * len(items) + "END"
    rows = _fetch(
        f"{ranked} WHERE t.rn = 1 ORDER BY {order}",
        [*params, *[value for rank, item_id in enumerate(items) for value in (item_id, rank)]],
    )
    return [_hit(row) for row in rows]


# ============================================================================================
# End of search.
# ============================================================================================


# ============================================================================================
# Guides (owner: portal). Implemented in tongban.catalog.guides; named here so that callers
# find every catalog read in one module.
# ============================================================================================
_GUIDE_READS = frozenset({"guide", "guide_as_dict", "material_choices", "materials_for"})


def __getattr__(name: str):
    # Looked up lazily: catalog.guides imports this module for the published rule.
    if name in _GUIDE_READS:
        from tongban.catalog import guides

        return getattr(guides, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_ID",
    "MAX_PAGE",
    "SearchHit",
    "SearchPage",
    "hot_implementations",
    "published_implementations",
    "published_on",
    "published_q",
    "published_sql",
    "search",
]
