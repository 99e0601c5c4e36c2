"""Catalog search on both databases: the SQLite pass exercises FTS5, the PostgreSQL pass the GIN
index over to_tsvector('simple', …)."""

import pytest
from django.db import connection

from tests.catalog.factories import ImplementationFactory, ItemFactory, ThemeFactory
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog import queries
from tongban.catalog.models import (
    Implementation,
    ImplementationStatus,
    Item,
    ItemTranslation,
    Synonym,
)
from tongban.catalog.queries import SearchFilters, candidates_sql, hot_implementations, search
from tongban.catalog.search import (
    SearchError,
    SearchErrorCode,
    fts5_query_text,
    normalize_query,
    reindex_items,
    tokens_for_item,
    tsquery_text,
)
from tongban.core.models import RegionLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions():
    return {
        "province": RegionFactory(province=True),
        "ordos": RegionFactory(),
        "dongsheng": RegionFactory(dongsheng=True),
        "xilin": RegionFactory(code="152500", name="锡林郭勒盟", level=RegionLevel.CITY),
        "erenhot": RegionFactory(erenhot=True),
    }


@pytest.fixture
def catalog(regions):
    """Five services in a few regions, indexed."""
    marriage = ItemFactory(name="婚姻登记", popularity=900, audiences="1")
    passport = ItemFactory(name="普通护照签发", popularity=500, audiences="1")
    social = ItemFactory(name="社保卡申领", popularity=300, audiences="1")
    food = ItemFactory(name="食品经营许可证核发", popularity=200, audiences="2")
    fund = ItemFactory(name="住房公积金提取", popularity=100, audiences="1,2")
    org = {key: OrganizationFactory(region=region) for key, region in regions.items()}
    impls = {
        "marriage_dongsheng": ImplementationFactory(
            item=marriage, organization=org["dongsheng"], popularity=50
        ),
        "marriage_erenhot": ImplementationFactory(
            item=marriage, organization=org["erenhot"], popularity=40
        ),
        "passport_ordos": ImplementationFactory(item=passport, organization=org["ordos"]),
        "social_province": ImplementationFactory(item=social, organization=org["province"]),
        "food_dongsheng": ImplementationFactory(
            item=food, organization=org["dongsheng"], online_depth=2, visits_required=1
        ),
        "fund_xilin": ImplementationFactory(item=fund, organization=org["xilin"]),
    }
    Synonym.objects.create(term="结婚", expansions="婚姻登记")
    reindex_items(Item.objects.all())
    return {"items": locals(), "impls": impls, "orgs": org}


def names(page):
    return [hit.item_name for hit in page.results]


# ---- tokens and query normalization -----------------------------------------------------------


def test_tokens_of_an_item_carry_words_pinyin_and_initials():
    item = ItemFactory(name="婚姻登记", code="1506000001", keywords="结婚证")
    tokens = set(tokens_for_item(item).split())
    assert {
        "婚姻",
        "登记",
        "婚姻登记",
        "hunyin",
        "dengji",
        "hunyindengji",
        "hy",
        "dj",
        "hydj",
    } <= tokens
    assert {"结婚", "结婚证", "jiehun", "1506000001"} <= tokens
    assert all(token == token.lower() for token in tokens)
    assert len(tokens) == len(tokens_for_item(item).split())  # deduplicated


def test_tokens_contain_every_dictionary_word_inside_a_name():
    item = ItemFactory(name="城乡居民基本养老保险参保登记")
    tokens = set(tokens_for_item(item).split())
    assert {"养老保险", "养老", "保险", "参保", "城乡", "居民"} <= tokens


def test_tokens_include_themes_and_translations():
    theme = ThemeFactory(code="marriage", name="婚育收养")
    item = ItemFactory(name="婚姻登记")
    item.themes.add(theme)
    ItemTranslation.objects.create(item=item, language="en", name="Marriage Registration")
    tokens = set(tokens_for_item(item).split())
    assert {"婚育", "收养", "marriage", "registration"} <= tokens


def test_query_is_simplified_half_width_and_stripped_of_syntax():
    terms = normalize_query("  婚姻登記！ ＨＵＮＹＩＮ & (x) ")
    texts = [t.text for t in terms]
    assert "婚姻登记" in texts or {"婚姻", "登记"} <= set(texts)
    assert "hunyin" in texts
    assert all(set(t) <= set("abcdefghijklmnopqrstuvwxyz0123456789") or t.isalpha() for t in texts)
    assert terms[-1].prefix


def test_query_drops_stop_words_unless_nothing_else_is_left():
    assert [t.text for t in normalize_query("我要办护照")] == ["护照"]
    assert [t.text for t in normalize_query("办理")] == ["办理"]


def test_query_expands_operator_synonyms():
    Synonym.objects.create(term="结婚", expansions="婚姻登记 结婚登记")
    (term,) = normalize_query("结婚")
    assert term.alternatives[0] == ("结婚",)
    assert ("婚姻登记",) in term.alternatives or ("婚姻", "登记") in term.alternatives


def test_rendered_queries_quote_every_token():
    terms = normalize_query("护照 婚")
    assert tsquery_text(terms).count("'") % 2 == 0
    assert "'婚':*" in tsquery_text(terms)
    assert '"婚"*' in fts5_query_text(terms)


def test_empty_and_punctuation_only_queries_have_no_terms():
    assert normalize_query("") == []
    assert normalize_query("  &|!():*\"' ") == []


# ---- finding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hunyin", "婚姻登记"),
        ("hydj", "婚姻登记"),
        ("hunyindengji", "婚姻登记"),
        ("婚姻", "婚姻登记"),
        ("婚姻登记", "婚姻登记"),
        ("婚姻登記", "婚姻登记"),  # traditional characters
        ("結婚", "婚姻登记"),  # traditional form of a synonym
        ("结婚", "婚姻登记"),  # operator's synonym
        ("护照", "普通护照签发"),  # two characters
        ("護照", "普通护照签发"),
        ("社保", "社保卡申领"),  # two characters inside a longer word
        ("huzhao", "普通护照签发"),
        ("公积金", "住房公积金提取"),
        ("食品 许可", "食品经营许可证核发"),
        ("婚", "婚姻登记"),  # one character: prefix
        ("hun", "婚姻登记"),  # as-you-type pinyin
        ("ＨＹＤＪ", "婚姻登记"),  # full width
    ],
)
def test_search_finds(catalog, q, expected):
    page = search(q)
    assert page.total >= 1
    assert set(names(page)) == {expected}


def test_two_character_words_do_not_find_other_items(catalog):
    assert set(names(search("护照"))) == {"普通护照签发"}
    assert set(names(search("社保"))) == {"社保卡申领"}
    assert search("签证").total == 0


def test_all_words_must_match(catalog):
    assert search("护照 婚姻").total == 0


def test_no_match_offers_suggestions_for_the_words_it_knows(catalog):
    page = search("护照 婚姻")
    assert page.results == []
    assert set(page.suggestions) == {"婚姻登记", "普通护照签发"}


def test_item_code_is_searchable(catalog):
    code = catalog["items"]["passport"].code
    assert names(search(code)) == ["普通护照签发"]


def test_reindex_follows_a_renamed_item(catalog):
    passport = catalog["items"]["passport"]
    passport.name = "出入境通行证签发"
    passport.save()
    reindex_items([passport])
    assert search("护照").total == 0
    assert names(search("通行证")) == ["出入境通行证签发"]


@pytest.mark.parametrize(
    "q",
    [
        "&|!():*\"'",
        "护照 & !婚姻",
        "'",
        '"',
        "护照:*",
        "(((",
        "NEAR(护照 婚姻)",
        "AND OR NOT",
        "护照*",
        "\\",
        "hunyin' | '",
        "婚姻 <-> 登记",
        "a" * 100,
        "护照\x00",
        "-护照",
        "^婚姻",
        "{col}: 护照",
    ],
)
def test_query_syntax_in_user_input_does_not_error(catalog, q):
    page = search(q)
    assert page.total >= 0


def test_syntax_around_a_word_still_finds_it(catalog):
    assert names(search('"护照"')) == ["普通护照签发"]
    assert names(search("(护照)*")) == ["普通护照签发"]


# ---- filters ---------------------------------------------------------------------------------


def test_region_filter_takes_descendants_and_ancestors(catalog):
    codes = {hit.region_code for hit in search("", region="150602", page_size=50).results}
    assert codes == {"150602", "150600", "150000"}  # itself, its city, its province
    codes = {hit.region_code for hit in search("", region="150600", page_size=50).results}
    assert codes == {"150602", "150600", "150000"}  # itself, its county, its province
    codes = {hit.region_code for hit in search("", region="152501", page_size=50).results}
    assert codes == {"152501", "152500", "150000"}
    codes = {hit.region_code for hit in search("", region="150000", page_size=50).results}
    assert codes == {"150602", "150600", "150000", "152500", "152501"}


def test_region_filter_with_text(catalog):
    page = search("婚姻", region="152501")
    assert [hit.region_code for hit in page.results] == ["152501"]
    assert search("护照", region="152501").total == 0


def test_township_region_reaches_its_county(catalog):
    codes = {hit.region_code for hit in search("", region="150602001000", page_size=50).results}
    assert codes == {"150602", "150600", "150000"}


def test_audience_theme_organization_and_depth_filters(catalog):
    assert set(names(search("", audience="2"))) == {"食品经营许可证核发", "住房公积金提取"}
    theme = ThemeFactory(code="family", name="婚育")
    catalog["items"]["marriage"].themes.add(theme)
    assert set(names(search("", theme="family"))) == {"婚姻登记"}
    assert search("", theme="no-such-theme").total == 0
    org = catalog["orgs"]["dongsheng"]
    assert set(names(search("", organization=org.id))) == {"婚姻登记", "食品经营许可证核发"}
    assert "食品经营许可证核发" not in names(search("", depth=3, page_size=50))
    assert "食品经营许可证核发" in names(search("", depth=2, page_size=50))


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"region": "1506"}, SearchErrorCode.INVALID_REGION, "region"),
        ({"region": "15060x"}, SearchErrorCode.INVALID_REGION, "region"),
        ({"region": "1506001"}, SearchErrorCode.INVALID_REGION, "region"),
        ({"audience": "9"}, SearchErrorCode.INVALID_AUDIENCE, "audience"),
        ({"theme": "a b"}, SearchErrorCode.INVALID_THEME, "theme"),
        ({"organization": 0}, SearchErrorCode.INVALID_ORGANIZATION, "organization"),
        ({"depth": 5}, SearchErrorCode.INVALID_DEPTH, "depth"),
        ({"depth": 0}, SearchErrorCode.INVALID_DEPTH, "depth"),
        ({"page": 0}, SearchErrorCode.INVALID_PAGE, "page"),
        ({"q": "护照" * 51}, SearchErrorCode.QUERY_TOO_LONG, "q"),
        ({"page_size": 0}, SearchErrorCode.INVALID_PAGE_SIZE, "page_size"),
        ({"page_size": queries.MAX_PAGE_SIZE + 1}, SearchErrorCode.INVALID_PAGE_SIZE, "page_size"),
    ],
)
def test_bad_parameters_raise_a_coded_error(kwargs, code, field):
    kwargs = {"q": "护照", **kwargs}
    with pytest.raises(SearchError) as excinfo:
        search(**kwargs)
    assert excinfo.value.code == code
    assert excinfo.value.field == field
    assert str(excinfo.value.message)


# ---- what is published, and in which order ------------------------------------------------


def test_only_active_implementations_of_active_items(catalog):
    passport_impl = catalog["impls"]["passport_ordos"]
    for status in (
        ImplementationStatus.DRAFT,
        ImplementationStatus.SUSPENDED,
        ImplementationStatus.RETIRED,
    ):
        passport_impl.status = status
        passport_impl.save()
        assert search("护照").total == 0
        assert "普通护照签发" not in names(search("", page_size=50))
    passport_impl.status = ImplementationStatus.ACTIVE
    passport_impl.save()
    assert search("护照").total == 1
    Item.objects.filter(pk=passport_impl.item_id).update(is_active=False)
    assert search("护照").total == 0


def test_equal_matches_rank_by_item_popularity_then_implementation_popularity(regions):
    low = ItemFactory(name="出生医学证明", popularity=10)
    high = ItemFactory(name="死亡医学证明", popularity=1000)
    org_a = OrganizationFactory(region=regions["dongsheng"])
    org_b = OrganizationFactory(region=regions["erenhot"])
    ImplementationFactory(item=low, organization=org_a, popularity=999)
    ImplementationFactory(item=high, organization=org_a, popularity=1)
    ImplementationFactory(item=high, organization=org_b, popularity=7)
    reindex_items([low, high])
    page = search("医学证明")
    assert names(page) == ["死亡医学证明", "死亡医学证明", "出生医学证明"]
    assert [hit.popularity for hit in page.results] == [7, 1, 999]
    high.popularity = 1
    high.save()
    assert names(search("医学证明"))[0] == "出生医学证明"


def test_empty_query_browses_by_popularity(catalog):
    page = search("")
    assert page.query_terms == []
    assert names(page)[:2] == ["婚姻登记", "婚姻登记"]
    assert names(page)[2:] == ["普通护照签发", "社保卡申领", "食品经营许可证核发", "住房公积金提取"]
    assert page.total == 6


def test_hits_carry_what_a_result_card_shows(catalog):
    (hit,) = search("护照").results
    impl = catalog["impls"]["passport_ordos"]
    assert hit.implementation_id == impl.id
    assert hit.implementation_code == impl.code
    assert hit.item_code == impl.item.code
    assert hit.organization_name == impl.organization.name
    assert (hit.region_code, hit.region_name) == ("150600", "鄂尔多斯市")
    assert hit.online_depth == 4
    assert hit.online_depth_label
    assert (hit.promised_limit, hit.promised_unit, hit.is_instant) == (5, "working", False)


# ---- pagination and cost ---------------------------------------------------------------------


@pytest.fixture
def many(regions):
    """Three items with 4, 3 and 2 implementations: 9 rows in a known order."""
    orgs = [OrganizationFactory(region=regions["dongsheng"]) for _ in range(4)]
    expected = []
    for popularity, count in ((300, 4), (200, 3), (100, 2)):
        item = ItemFactory(name=f"出具证明{popularity}", popularity=popularity)
        rows = [
            ImplementationFactory(item=item, organization=orgs[n], popularity=10 - n)
            for n in range(count)
        ]
        expected += [row.id for row in rows]
    reindex_items(Item.objects.all())
    return expected


def test_pages_cut_across_items_in_order(many):
    seen = []
    for number in (1, 2, 3, 4):
        page = search("证明", page=number, page_size=2)
        assert (page.total, page.pages) == (9, 5)
        seen += [hit.implementation_id for hit in page.results]
    last = search("证明", page=5, page_size=2)
    assert len(last.results) == 1
    assert not last.has_next
    assert last.has_previous
    assert seen + [hit.implementation_id for hit in last.results] == many
    beyond = search("证明", page=6, page_size=2)
    assert beyond.results == []
    assert beyond.total == 9


def test_candidate_items_are_bounded(many, monkeypatch):
    monkeypatch.setattr(queries, "CANDIDATE_ITEMS", 2)
    page = search("证明", page_size=50)
    assert page.total == 7  # the implementations of the two best items only
    assert {hit.item_name for hit in page.results} == {"出具证明300", "出具证明200"}


@pytest.mark.parametrize("size", [1, 12])
def test_query_count_is_constant(regions, django_assert_num_queries, size):
    orgs = [OrganizationFactory(region=regions["dongsheng"]) for _ in range(3)]
    for n in range(size):
        item = ItemFactory(name=f"护照事项{n}", popularity=n)
        for org in orgs:
            ImplementationFactory(item=item, organization=org)
    reindex_items(Item.objects.all())
    search("预热")  # the first query of a process loads the catalog's words
    with django_assert_num_queries(3):  # synonyms, candidates with counts, the page
        page = search("护照", region="150602", page_size=50)
    assert page.total == 3 * size
    with django_assert_num_queries(2):  # no text: candidates, the page
        search("", region="150602", audience="1", depth=3, page_size=50)


# ---- home page -------------------------------------------------------------------------------


def test_hot_implementations_give_one_per_item_by_popularity(catalog):
    hot = hot_implementations("150602", limit=8)
    assert [hit.item_name for hit in hot] == [
        "婚姻登记",
        "普通护照签发",
        "社保卡申领",
        "食品经营许可证核发",
    ]
    assert hot[0].region_code == "150602"
    assert [hit.item_name for hit in hot_implementations(None, limit=2)] == [
        "婚姻登记",
        "普通护照签发",
    ]
    assert hot_implementations("152501", limit=8)[0].region_code == "152501"


def test_hot_implementations_validate(catalog):
    with pytest.raises(SearchError):
        hot_implementations("15", limit=8)
    with pytest.raises(SearchError):
        hot_implementations(None, limit=0)


def test_hot_implementations_cost_two_queries(catalog, django_assert_num_queries):
    with django_assert_num_queries(2):
        hot_implementations("150602")


# ---- storage engines -------------------------------------------------------------------------


def test_text_index_matches_the_vendor(catalog):
    sql, _ = candidates_sql(normalize_query("护照"), SearchFilters(), limit=10)
    if connection.vendor == "postgresql":
        assert "to_tsquery('simple', %s)" in sql
    else:
        assert "catalog_item_fts MATCH %s" in sql
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_item_fts")
            assert cursor.fetchone()[0] == Item.objects.count()


@pytest.mark.postgres
def test_postgres_uses_the_gin_index_for_a_two_character_word(regions):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    org = OrganizationFactory(region=regions["dongsheng"])
    words = [
        "食品经营许可",
        "建设工程规划",
        "道路运输经营",
        "药品零售许可",
        "排污许可",
        "出版物经营",
    ]
    actions = ["核发", "变更", "延续", "注销", "补领", "备案"]
    items = Item.objects.bulk_create(
        Item(
            code=f"G{n:07d}",
            name=f"{words[n % 6]}{actions[n // 6 % 6]}{n}",
            item_type="01",
            legal_basis="-",
            level="3",
            audiences="1",
        )
        for n in range(3000)
    )
    items.append(ItemFactory(name="普通护照签发"))
    Implementation.objects.bulk_create(  # every item is implemented, as in a real catalog
        ImplementationFactory.build(item=item, organization=org, region_code=org.region.code)
        for item in items
    )
    reindex_items(items)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_item")
        cursor.execute("ANALYZE catalog_implementation")
        sql, params = candidates_sql(normalize_query("护照"), SearchFilters(), limit=200)
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # No enable_seqscan: the planner picks the index by itself at this size.
    assert "catalog_item_search_gin" in plan, plan
    assert names(search("护照")) == ["普通护照签发"]


# ---- synthetic catalog -------------------------------------------------------------------------


def test_synthetic_catalog_has_the_requested_shape():
    from tongban.catalog import synthetic
    from tongban.catalog.models import Implementation
    from tongban.core.models import Region

    counts = synthetic.synthesize(implementations=400, items=40, seed=7)
    assert counts == {"items": 40, "implementations": 400}
    items = Item.objects.filter(code__startswith=synthetic.CODE_PREFIX)
    assert items.count() == 40
    assert len(set(items.values_list("name", flat=True))) == 40
    impls = Implementation.objects.filter(item__in=items)
    assert impls.count() == 400
    assert not items.filter(implementations__isnull=True).exists()  # every item is implemented
    assert all(code == rc for code, rc in impls.values_list("region__code", "region_code")[:50])
    assert Region.objects.filter(code="150602", name="东胜区").exists()
    assert Region.objects.filter(level=RegionLevel.COUNTY, code__startswith="15").count() == 103
    popularity = sorted(items.values_list("popularity", flat=True), reverse=True)
    assert popularity[0] > 10 * popularity[len(popularity) // 2]  # Zipf: a few items dominate
    assert all(item.search_document for item in items)
    name = items.order_by("-popularity").first().name
    assert search(name).total >= 1
    with pytest.raises(ValueError, match="already exist"):
        synthetic.synthesize(implementations=10, items=5)
    assert synthetic.remove_synthetic() > 0
    assert not Item.objects.filter(code__startswith=synthetic.CODE_PREFIX).exists()
    assert search(name).total == 0


def test_synthetic_item_count_scales_with_implementations():
    from tongban.catalog.synthetic import items_for

    assert items_for(6_000) == 1_500
    assert items_for(600_000) == 6_000
    assert items_for(100) == 100


# ---- one rule for "published": the ORM and the search SQL agree --------------------------------


def test_published_rule_is_the_same_in_the_orm_the_stamp_sql_and_search(regions):
    """Every combination of status, item flag and effective dates, judged by the ORM
    (``published_q``), by the SQL of ``published_sql`` and by search: the same rows."""
    import contextlib
    import datetime as dt

    from tongban.catalog import guides

    today = queries.published_on()
    day = dt.timedelta(days=1)
    org = OrganizationFactory(region=regions["dongsheng"])
    item_states = {True: ItemFactory(name="公共场所卫生许可"), False: ItemFactory(name="停用事项")}
    Item.objects.filter(pk=item_states[False].pk).update(is_active=False)
    dates = [
        (None, None),
        (today, today),
        (today - day, today + day),
        (today + day, None),
        (None, today - day),
        (today - 10 * day, today - day),
    ]
    expected = set()
    for status in ImplementationStatus.values:
        for active, item in item_states.items():
            for start, end in dates:
                impl = ImplementationFactory(
                    item=item,
                    organization=org,
                    status=status,
                    effective_from=start,
                    effective_to=end,
                )
                if (
                    status == ImplementationStatus.ACTIVE
                    and active
                    and (start is None or start <= today)
                    and (end is None or end >= today)
                ):
                    expected.add(impl.pk)
    reindex_items(Item.objects.all())
    assert len(expected) == 3  # none, today–today, yesterday–tomorrow

    assert set(queries.published_implementations().values_list("pk", flat=True)) == expected
    where, params = queries.published_sql("m", "i")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.id FROM catalog_implementation m "  # noqa: S608
            f"JOIN catalog_item i ON i.id = m.item_id WHERE {where}",
            params,
        )
        assert {row[0] for row in cursor.fetchall()} == expected
    found = search("", page_size=50)
    assert {hit.implementation_id for hit in found.results} == expected
    assert found.total == len(expected)
    stamped = set()
    for impl in Implementation.objects.all():
        with contextlib.suppress(Implementation.DoesNotExist):
            stamped.add(guides.guide_stamp(impl.code).id)
    assert stamped == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"organization": 2**63}, "organization"),
        ({"organization": 10**30}, "organization"),
        ({"page": queries.MAX_PAGE + 1}, "page"),
        ({"page": 10**30}, "page"),
    ],
)
def test_out_of_range_integers_never_reach_the_database(kwargs, field, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(SearchError) as raised:
        search("婚姻", **kwargs)
    assert raised.value.field == field


def test_the_largest_id_and_the_last_page_are_accepted(regions):
    assert search("婚姻", organization=queries.MAX_ID).total == 0
    assert search("婚姻", page=queries.MAX_PAGE).results == []


@pytest.mark.parametrize("region", ["١٥٠٦٠٢", "１５０６０２", "15060²"])
def test_region_codes_are_ascii_digits(region):
    with pytest.raises(SearchError) as raised:
        search("婚姻", region=region)
    assert raised.value.code == SearchErrorCode.INVALID_REGION
