"""Forms as data: every field kind's check, all errors at once, fields that apply by situation,
prefill from the profile and the keys it locks."""

from __future__ import annotations

import pytest

from tests.accounts.factories import CompanyFactory, UserFactory, make_id_number
from tests.catalog.factories import ImplementationFactory, SituationOptionFactory
from tests.core.factories import RegionFactory, make_uscc
from tongban.cases import forms
from tongban.cases.forms import FieldSpec
from tongban.cases.models import DataElement, FieldKind, FormField, ProfileSource
from tongban.core.identifiers import id_number_check_char, uscc_check_char

K = FieldKind


def spec(kind, key="f", label="字段", required=True, **kwargs) -> FieldSpec:
    return FieldSpec(key=key, label=label, kind=kind, required=required, **kwargs)


def check(s: FieldSpec, value):
    cleaned, errors = forms.validate([s], {s.key: value}, [])
    return cleaned.get(s.key), errors.get(s.key, [])


def ok(s, value, expected=None):
    cleaned, errors = check(s, value)
    assert errors == [], errors
    assert cleaned == (value if expected is None else expected)


def bad(s, value, *words):
    _cleaned, errors = check(s, value)
    assert len(errors) == 1, errors
    for word in words:
        assert word in errors[0], errors[0]


# --- Each kind -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(K))
def test_required_and_optional_empty_values(kind):
    for empty in (None, "", "   ", []):
        verb = "请上传" if kind == K.FILE else "请填写"
        bad(spec(kind, label="经营面积"), empty, f"{verb}经营面积")
        cleaned, errors = check(spec(kind, required=False), empty)
        assert (cleaned, errors) == (None, [])


def test_text_lengths_and_pattern():
    ok(spec(K.TEXT), "  张三  ", "张三")
    ok(spec(K.TEXT), "字" * 100)
    bad(spec(K.TEXT, label="名称"), "字" * 101, "名称不能超过100个字")
    ok(spec(K.LONG_TEXT), "字" * 2000)
    bad(spec(K.LONG_TEXT), "字" * 2001, "2000")
    ok(spec(K.ADDRESS), "字" * 200)
    bad(spec(K.ADDRESS), "字" * 201, "200")
    rules = {"min_length": 2, "max_length": 5}
    bad(spec(K.TEXT, rules=rules), "字", "至少2个字")
    bad(spec(K.TEXT, rules=rules), "字" * 6, "不能超过5个字")
    ok(spec(K.TEXT, rules=rules), 12345, "12345")
    pattern = {"pattern": r"[A-Z]{2}\d{4}"}
    ok(spec(K.TEXT, rules=pattern), "AB1234")
    bad(spec(K.TEXT, label="编号", rules=pattern), "AB12345", "编号格式不正确")
    bad(spec(K.TEXT, rules={**pattern, "pattern_message": "应为两个大写字母加四位数字"}), "ab1234")


def test_number():
    area = spec(K.NUMBER, label="面积", rules={"min": 1, "max": 100000})
    ok(area, "120", "120")
    ok(area, " 99.5 ", "99.5")
    ok(area, 7, "7")
    ok(area, "100000", "100000")
    bad(area, "0.5", "面积不能小于1")
    bad(area, "100000.01", "面积不能大于100000")
    for not_a_number in ("十二", "12平方米", "NaN", "Infinity", "-inf", "1,000"):
        bad(area, not_a_number, "面积应为数字")
    ok(spec(K.NUMBER), "-3", "-3")


def test_date():
    day = spec(K.DATE, label="开业日期", rules={"min": "2026-01-01", "max": "2026-12-31"})
    ok(day, "2026-05-01", "2026-05-01")
    ok(day, "2026-01-01")
    bad(day, "2025-12-31", "开业日期不能早于2026-01-01")
    bad(day, "2027-01-01", "开业日期不能晚于2026-12-31")
    for wrong in ("2026-02-30", "2026/05/01", "五月一日", "2026-13-01"):
        bad(day, wrong, "开业日期应为日期")


def test_choice():
    kind = spec(K.CHOICE, label="经营类别", choices=("食品销售", "餐饮服务"))
    ok(kind, "餐饮服务")
    bad(kind, "网吧", "请从列表中选择经营类别")
    bad(kind, "餐饮", "请从列表中选择")


@pytest.mark.django_db
def test_region():
    RegionFactory(dongsheng=True)
    region = spec(K.REGION, label="所在区划")
    ok(region, "150602")
    bad(region, "150699", "所在区划不是有效的行政区划代码")
    bad(region, "东胜区", "不是有效的行政区划代码")


def test_id_number_with_its_check_character():
    number = make_id_number(birth="19851231")
    field = spec(K.ID_NUMBER, label="身份证号码")
    ok(field, number)
    ok(field, f" {number} ", number)
    if number.endswith("X"):
        ok(field, number.lower(), number)
    first17 = number[:17]
    wrong = next(c for c in "0123456789X" if c != id_number_check_char(first17))
    bad(field, first17 + wrong, "身份证号码：")
    bad(field, number[:-1], "18位")
    bad(field, "150602" + "20991231" + "001" + "X", "身份证号码：")  # a future birth date
    bad(field, "99" + number[2:], "身份证号码：")  # no such province
    # An X check character is upper-cased.
    for n in range(1000):
        body = f"15060219900101{n:03d}"
        if id_number_check_char(body) == "X":
            ok(field, body + "x", body + "X")
            break


def test_uscc_with_its_check_character():
    code = make_uscc("150602", authority="9", category="1")
    field = spec(K.USCC, label="统一社会信用代码")
    ok(field, code)
    ok(field, code.lower(), code)
    wrong = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != uscc_check_char(code[:17]))
    bad(field, code[:17] + wrong, "统一社会信用代码：")
    bad(field, code[:17], "18位")
    bad(field, "O" + code[1:], "不允许的字符")


def test_phone():
    phone = spec(K.PHONE, label="联系电话")
    ok(phone, "13812345678")
    ok(phone, "138 1234 5678", "13812345678")
    ok(phone, "138-1234-5678", "13812345678")
    for wrong in ("12812345678", "1381234567", "0477-8581234", "+8613812345678"):
        bad(phone, wrong, "联系电话应为11位手机号码")


def test_file_fields_hold_a_library_reference():
    ok(spec(K.FILE), "library:42")
    assert forms.library_id("library:42") == 42
    for wrong in ("42", "library:", "library:x", "/etc/passwd"):
        bad(spec(K.FILE, label="门头照片"), wrong, "请上传门头照片")
        assert forms.library_id(wrong) is None


def test_every_problem_is_reported_at_once():
    specs = [
        spec(K.TEXT, key="name", label="名称"),
        spec(K.NUMBER, key="area", label="面积", rules={"min": 1}),
        spec(K.PHONE, key="phone", label="电话"),
        spec(K.ID_NUMBER, key="id", label="身份证号码"),
        spec(K.DATE, key="day", label="日期", required=False),
        spec(K.TEXT, key="fine", label="备注"),
    ]
    data = {"area": "0", "phone": "123", "id": "150602", "day": "昨天", "fine": "好", "x": "y"}
    cleaned, errors = forms.validate(specs, data, [])
    assert set(errors) == {"name", "area", "phone", "id", "day"}
    assert all(len(messages) == 1 for messages in errors.values())
    assert cleaned["fine"] == "好"
    assert "x" not in cleaned
    assert "name" not in cleaned


# --- Forms as data -------------------------------------------------------------------------------


@pytest.fixture
def service(db):
    implementation = ImplementationFactory()
    branch = SituationOptionFactory(
        situation__implementation=implementation, situation__question="是否设分支？", label="是"
    )
    no_branch = SituationOptionFactory(situation=branch.situation, label="否")
    name, _ = DataElement.objects.get_or_create(
        key="applicant.name",
        defaults={
            "label": "申请人姓名",
            "kind": K.TEXT,
            "profile_source": ProfileSource.PERSON_NAME,
            "rules": {"max_length": 30},
        },
    )
    uscc, _ = DataElement.objects.get_or_create(
        key="company.uscc",
        defaults={"label": "统一社会信用代码", "kind": K.USCC, "profile_source": "company.uscc"},
    )
    FormField.objects.create(implementation=implementation, element=name, order=1)
    FormField.objects.create(
        implementation=implementation, element=uscc, label="企业信用代码", order=2
    )
    FormField.objects.create(
        implementation=implementation,
        key="branch.address",
        label="分支机构地址",
        kind=K.ADDRESS,
        condition=branch,
        order=3,
    )
    FormField.objects.create(
        implementation=implementation,
        key="contact.phone",
        label="联系人手机",
        kind=K.PHONE,
        required=False,
        order=4,
    )
    return implementation, branch, no_branch


def test_form_for_resolves_dictionary_and_own_fields(service):
    implementation, branch, _no = service
    specs = forms.form_for(implementation)
    assert [s.key for s in specs] == [
        "applicant.name",
        "company.uscc",
        "branch.address",
        "contact.phone",
    ]
    name, uscc, branch_address, phone = specs
    assert (name.label, name.kind, name.rules, name.profile_source) == (
        "申请人姓名",
        K.TEXT,
        {"max_length": 30},
        "person.name",
    )
    assert uscc.label == "企业信用代码"  # the form may rename a dictionary element
    assert branch_address.condition_id == branch.pk
    assert phone.personal
    assert phone.input_type == "tel"
    assert not phone.required


def test_a_conditional_field_applies_only_with_its_option(service):
    implementation, branch, no_branch = service
    specs = forms.form_for(implementation)
    data = {"applicant.name": "张三", "company.uscc": make_uscc()}
    assert [s.key for s in forms.applicable(specs, [])] == [
        "applicant.name",
        "company.uscc",
        "contact.phone",
    ]
    cleaned, errors = forms.validate(specs, data, [no_branch.pk])
    assert errors == {}
    cleaned, errors = forms.validate(specs, data, [branch.pk])
    assert list(errors) == ["branch.address"]
    cleaned, errors = forms.validate(specs, {**data, "branch.address": "康巴什区1号"}, [branch.pk])
    assert errors == {}
    assert cleaned["branch.address"] == "康巴什区1号"
    # An answer given for a field that does not apply is dropped.
    cleaned, _errors = forms.validate(specs, {**data, "branch.address": "x"}, [no_branch.pk])
    assert "branch.address" not in cleaned


def test_prefill_from_the_profile_and_locked_keys(service):
    implementation, _branch, _no = service
    specs = forms.form_for(implementation)
    person = UserFactory(real_name="王小明")
    assert forms.prefill(specs, person) == {"applicant.name": "王小明"}
    assert forms.locked_keys(specs, person) == {"applicant.name"}

    company = CompanyFactory()
    assert forms.prefill(specs, person, company) == {
        "applicant.name": "王小明",
        "company.uscc": company.uscc,
    }
    assert forms.locked_keys(specs, person, company) == {"applicant.name", "company.uscc"}

    # Earlier answers (a draft) come first; an unverified person locks nothing.
    known = {"applicant.name": "", "contact.phone": "13900000000"}
    assert forms.prefill(specs, person, known=known) == {
        "applicant.name": "王小明",
        "contact.phone": "13900000000",
    }
    nobody = UserFactory(unverified=True)
    assert forms.prefill(specs, nobody) == {}
    assert forms.locked_keys(specs, nobody) == set()


def test_profile_values_by_source(db):
    person = UserFactory(real_name="李四")
    company = CompanyFactory(legal_rep_name="赵六")
    values = forms.profile_values(person, company)
    assert values["person.name"] == "李四"
    assert values["person.id_number"] == person.id_number
    assert values["person.phone"] == person.phone
    assert (values["company.name"], values["company.uscc"]) == (company.name, company.uscc)
    assert values["company.legal_rep"] == "赵六"


def test_display_value_masks_personal_data():
    assert forms.display_value(spec(K.ID_NUMBER), "15060219900101123X") == "150602********123X"
    assert forms.display_value(spec(K.PHONE), "13812345678") == "138****5678"
    assert forms.display_value(spec(K.TEXT), "东胜区") == "东胜区"
    assert forms.display_value(spec(K.TEXT), None) == ""
