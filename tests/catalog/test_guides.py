"""Which materials apply (catalog.guides): the rule of the models' docstring, and guide loading."""

import pytest

from tests.catalog.factories import (
    ImplementationFactory,
    MaterialFactory,
    SituationFactory,
    SituationOptionFactory,
)
from tongban.catalog import guides
from tongban.catalog.models import Implementation, ImplementationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    impl = ImplementationFactory()
    residence = SituationFactory(implementation=impl, question="户籍", order=1)
    local = SituationOptionFactory(situation=residence, label="本地")
    other = SituationOptionFactory(situation=residence, label="外地")
    agent = SituationFactory(implementation=impl, question="是否委托代理", order=2, multiple=True)
    self_ = SituationOptionFactory(situation=agent, label="本人办理")
    proxy = SituationOptionFactory(situation=agent, label="委托代理")
    lawyer = SituationOptionFactory(situation=agent, label="律师代理")

    MaterialFactory(implementation=impl, name="身份证", order=1)
    outsider = MaterialFactory(implementation=impl, name="居住证", order=2)
    outsider.conditions.add(other)
    any_agent = MaterialFactory(implementation=impl, name="授权委托书", order=3)
    any_agent.conditions.add(proxy, lawyer)  # either option of one situation
    outsider_agent = MaterialFactory(implementation=impl, name="外地代理人证明", order=4)
    outsider_agent.conditions.add(other, proxy)  # both situations must match
    ids = {"residence": residence.id, "agent": agent.id}
    opts = {o.label: o.id for o in (local, other, self_, proxy, lawyer)}
    return guides.guide(impl.code), ids, opts


def names(impl, answers):
    return [m.name for m in guides.materials_for(impl, answers)]


def test_without_answers_every_material_is_listed_and_conditional_ones_depend(setup):
    impl, ids, _ = setup
    assert names(impl, {}) == ["身份证", "居住证", "授权委托书", "外地代理人证明"]
    choices = {c.material.name: c for c in guides.material_choices(impl, {})}
    assert not choices["身份证"].depends
    assert [s.id for s in choices["居住证"].pending] == [ids["residence"]]
    assert [s.id for s in choices["外地代理人证明"].pending] == [ids["residence"], ids["agent"]]


def test_an_answer_that_does_not_match_rules_the_material_out(setup):
    impl, ids, opts = setup
    assert names(impl, {ids["residence"]: {opts["本地"]}}) == ["身份证", "授权委托书"]


def test_one_of_the_linked_options_of_a_situation_is_enough(setup):
    impl, ids, opts = setup
    answers = {ids["residence"]: {opts["本地"]}, ids["agent"]: {opts["律师代理"]}}
    assert names(impl, answers) == ["身份证", "授权委托书"]


def test_every_situation_among_the_conditions_must_match(setup):
    impl, ids, opts = setup
    both = {ids["residence"]: {opts["外地"]}, ids["agent"]: {opts["委托代理"]}}
    assert names(impl, both) == ["身份证", "居住证", "授权委托书", "外地代理人证明"]
    assert not any(c.depends for c in guides.material_choices(impl, both))
    only_self = {ids["residence"]: {opts["外地"]}, ids["agent"]: {opts["本人办理"]}}
    assert names(impl, only_self) == ["身份证", "居住证"]


def test_a_partly_answered_combination_still_depends(setup):
    impl, ids, opts = setup
    choices = {
        c.material.name: c
        for c in guides.material_choices(impl, {ids["residence"]: {opts["外地"]}})
    }
    assert not choices["居住证"].depends
    assert [s.id for s in choices["外地代理人证明"].pending] == [ids["agent"]]


def test_empty_answer_sets_count_as_unanswered(setup):
    impl, ids, _ = setup
    assert names(impl, {ids["residence"]: set()}) == names(impl, {})


def test_clean_answers_checks_situations_options_and_single_choice(setup):
    impl, ids, opts = setup
    assert guides.clean_answers(impl, {ids["agent"]: [opts["委托代理"], opts["律师代理"]]}) == {
        ids["agent"]: {opts["委托代理"], opts["律师代理"]}
    }
    assert guides.clean_answers(impl, {ids["residence"]: []}) == {}
    cases = [
        ({999999: [opts["本地"]]}, guides.GuideErrorCode.UNKNOWN_SITUATION),
        ({ids["residence"]: [opts["委托代理"]]}, guides.GuideErrorCode.UNKNOWN_OPTION),
        ({ids["residence"]: [opts["本地"], opts["外地"]]}, guides.GuideErrorCode.SINGLE_CHOICE),
    ]
    for raw, code in cases:
        with pytest.raises(guides.GuideError) as caught:
            guides.clean_answers(impl, raw)
        assert caught.value.code == code
        assert caught.value.message  # a Chinese sentence for people


def test_answers_from_options_groups_by_situation(setup):
    impl, ids, opts = setup
    answers = guides.answers_from_options(impl, [opts["外地"], opts["委托代理"]])
    assert answers == {ids["residence"]: {opts["外地"]}, ids["agent"]: {opts["委托代理"]}}
    with pytest.raises(guides.GuideError):
        guides.answers_from_options(impl, [123456789])


def test_guide_loads_everything_in_a_constant_number_of_queries(django_assert_num_queries):
    impl = ImplementationFactory(complete=True)
    for _ in range(5):
        SituationOptionFactory(situation=SituationFactory(implementation=impl))
        MaterialFactory(implementation=impl)
    with django_assert_num_queries(13):
        loaded = guides.guide(impl.code)
    with django_assert_num_queries(0):
        guides.guide_as_dict(loaded)
        guides.material_choices(loaded, {})


@pytest.mark.parametrize(
    "status",
    [ImplementationStatus.DRAFT, ImplementationStatus.SUSPENDED, ImplementationStatus.RETIRED],
)
def test_guide_of_a_non_active_implementation_does_not_exist(status):
    impl = ImplementationFactory(status=status)
    with pytest.raises(Implementation.DoesNotExist):
        guides.guide(impl.code)
    with pytest.raises(Implementation.DoesNotExist):
        guides.guide_stamp(impl.code)


def test_guide_stamp_changes_when_the_implementation_is_saved():
    impl = ImplementationFactory()
    before = guides.guide_stamp(impl.code)
    impl.save()
    assert guides.guide_stamp(impl.code).key != before.key


def test_guide_as_dict_has_every_element(setup):
    impl, _, _ = setup
    data = guides.guide_as_dict(impl)
    assert data["code"] == impl.code
    assert data["online_depth"]["numeral"] == "Ⅳ"
    assert data["time_limits"]["promised"]["unit"] == {"code": "working", "label": "工作日"}
    assert [m["applies"] for m in data["materials"]] == ["yes", "depends", "depends", "depends"]
    for key in (
        "locations",
        "hours",
        "steps",
        "faqs",
        "fees",
        "intermediaries",
        "phones",
        "channels",
    ):
        assert key in data


# ---- links ------------------------------------------------------------------------------------


def test_guide_links_are_canonical_and_absolute_under_the_public_url(settings):
    settings.TONGBAN_PUBLIC_URL = "https://zwfw.example.gov.cn/"
    links = guides.guide_links("CODE-1", {9: {4, 2}, 3: {7}, 5: set()})
    assert links.guide_path == "/guide/CODE-1/?s3=7&s9=2&s9=4"
    assert links.notice_path == "/guide/CODE-1/notice.pdf?s3=7&s9=2&s9=4"
    assert links.guide_url == "https://zwfw.example.gov.cn/guide/CODE-1/?s3=7&s9=2&s9=4"
    assert links.notice_url == "https://zwfw.example.gov.cn/guide/CODE-1/notice.pdf?s3=7&s9=2&s9=4"
    bare = guides.guide_links("CODE-1")
    assert (bare.guide_url, bare.notice_path) == (
        "https://zwfw.example.gov.cn/guide/CODE-1/",
        "/guide/CODE-1/notice.pdf",
    )


# ---- malformed codes never reach the database -------------------------------------------------


@pytest.mark.parametrize("code", ["", "a\x00b", "x" * 37, "a/b", "a\nb", "\u200b"])
def test_malformed_codes_do_not_exist_without_a_query(code, django_assert_num_queries):
    assert not guides.is_guide_code(code)
    with django_assert_num_queries(0):
        with pytest.raises(Implementation.DoesNotExist):
            guides.guide(code)
        with pytest.raises(Implementation.DoesNotExist):
            guides.guide_stamp(code)


def test_codes_of_every_shape_in_use_are_accepted():
    for code in ("11150602MB0000001A000001", "NEW-1", "x" * 36, "1506.01_a"):
        assert guides.is_guide_code(code)


# ---- service hours: the span is translatable ---------------------------------------------------


def test_service_hours_span_goes_through_gettext(monkeypatch):
    import datetime as dt

    from tongban.catalog.models import ServiceHours, implementations

    hours = ServiceHours(weekday_from=1, weekday_to=5, opens=dt.time(9), closes=dt.time(17))
    assert str(hours) == "星期一至星期五 09:00—17:00"
    same_day = ServiceHours(weekday_from=6, weekday_to=6, opens=dt.time(9), closes=dt.time(12))
    assert str(same_day) == "星期六 09:00—12:00"

    translated = {"%(from)s至%(to)s": "%(from)s to %(to)s"}
    monkeypatch.setattr(implementations, "_", lambda text: translated.get(text, text))
    assert str(hours) == "星期一 to 星期五 09:00—17:00"
