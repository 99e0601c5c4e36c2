"""Entering schedules and local holidays: validation, all-or-nothing imports, hooks, admin."""

import datetime as dt
import io
import json
from pathlib import Path

import chinese_calendar
import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import path

from tests.backoffice.helpers import login_backoffice
from tongban.core import calendar
from tongban.core.calendar import YearSource, add_days, is_working_day
from tongban.core.calendar_errors import CalendarError, CalendarErrorCode, RowErrorCode
from tongban.core.calendar_services import (
    delete_local_holiday,
    delete_schedule,
    enter_schedule,
    import_schedule_file,
    parse_schedule_file,
    save_local_holiday,
)
from tongban.core.models import (
    AuditRecord,
    DayKind,
    HolidaySchedule,
    LocalHoliday,
    RegionLevel,
    ScheduleDay,
)

from .factories import RegionFactory

D = dt.date
EXAMPLE_2026 = Path(__file__).resolve().parents[2] / "docs" / "holidays" / "2026.csv"

# The admin is tested on its own URLconf so that the rest of the site does not matter here.
urlpatterns = [path("admin/", admin.site.urls)]

pytestmark = pytest.mark.django_db

#: A plausible 2027 schedule (the real notice is not out yet): the law's days plus swaps.
DAYS_2027 = [
    {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
    {"date": "2027-01-02", "kind": "holiday", "name": "元旦"},
    {"date": "2027-01-03", "kind": "holiday", "name": "元旦"},
    *({"date": f"2027-02-{d:02d}", "kind": "holiday", "name": "春节"} for d in range(5, 14)),
    {"date": "2027-02-20", "kind": "makeup_workday", "name": "春节"},
    {"date": "2027-04-03", "kind": "holiday", "name": "清明节"},
    {"date": "2027-04-04", "kind": "holiday", "name": "清明节"},
    {"date": "2027-04-05", "kind": "holiday", "name": "清明节"},
    *({"date": f"2027-05-{d:02d}", "kind": "holiday", "name": "劳动节"} for d in range(1, 6)),
    {"date": "2027-06-09", "kind": "holiday", "name": "端午节"},
    {"date": "2027-09-15", "kind": "holiday", "name": "中秋节"},
    *({"date": f"2027-10-{d:02d}", "kind": "holiday", "name": "国庆节"} for d in range(1, 8)),
    {"date": "2027-10-09", "kind": "makeup_workday", "name": "国庆节"},
]


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    calendar.invalidate_cache()
    yield
    calendar.invalidate_cache()


@pytest.fixture
def hook_calls():
    calls = []
    calendar.register_recompute_hook(calls.append)
    yield calls
    calendar.unregister_recompute_hook(calls.append)


def enter_2027(**overrides):
    arguments = {
        "actor": "运维人员",
        "year": 2027,
        "days": DAYS_2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "published": D(2026, 11, 20),
    }
    return enter_schedule(**{**arguments, **overrides})


def csv_bytes(*rows, header="date,kind,name", meta=True, encoding="utf-8"):
    lines = []
    if meta:
        lines += ["# year: 2027", "# source: 测试通知", "# published: 2026-11-20"]
    if header:
        lines.append(header)
    lines += rows
    return ("\n".join(lines) + "\n").encode(encoding)


def good_2027_rows():
    return [f"{d['date']},{d['kind']},{d['name']}" for d in DAYS_2027]


# --- the shipped 2026 file ------------------------------------------------------------------


def test_example_2026_file_agrees_with_the_package_day_by_day():
    parsed = parse_schedule_file(EXAMPLE_2026.read_bytes(), name="2026.csv")
    assert (parsed.year, parsed.published) == ("2026", "2025-11-04")
    entered = {D.fromisoformat(d): kind for _row, d, kind, _name in parsed.rows}
    package = {d: "holiday" for d in chinese_calendar.holidays if d.year == 2026}
    package |= {d: "makeup_workday" for d in chinese_calendar.workdays if d.year == 2026}
    assert entered == package
    makeup = sorted(d for d, k in entered.items() if k == "makeup_workday")
    assert makeup == [
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    spring = sorted(
        d for d, k in entered.items() if k == "holiday" and D(2026, 2, 1) <= d <= D(2026, 2, 28)
    )
    assert (spring[0], spring[-1], len(spring)) == (D(2026, 2, 15), D(2026, 2, 23), 9)


def test_importing_the_2026_file_makes_it_the_source_and_changes_no_answer(
    hook_calls, django_capture_on_commit_callbacks
):
    before = {d: is_working_day(d).working for d in _days_of(2026)}
    with django_capture_on_commit_callbacks(execute=True):
        schedule = import_schedule_file(actor="运维人员", file=EXAMPLE_2026)
    assert (schedule.year, schedule.days.count(), schedule.entered_by) == (2026, 39, "运维人员")
    assert calendar.year_source(2026).source == YearSource.SCHEDULE
    assert {d: is_working_day(d).working for d in _days_of(2026)} == before
    assert [c.year for c in hook_calls] == [2026]


def _days_of(year):
    day = D(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


# --- entering 2027 --------------------------------------------------------------------------


def test_entering_2027_removes_the_provisional_flag_and_calls_hooks(
    hook_calls, django_capture_on_commit_callbacks
):
    before = add_days(D(2026, 12, 10), 20)
    assert before.provisional_years == (2027,)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        schedule = enter_2027()
        assert hook_calls == []  # not before commit
    assert len(callbacks) == 1
    assert [(c.year, c.region_prefix, c.reason) for c in hook_calls] == [(2027, None, "schedule")]
    after = add_days(D(2026, 12, 10), 20)
    assert not after.provisional
    assert after.due == D(2027, 1, 8)  # 1–3 January off, 4–8 January count
    assert is_working_day(D(2027, 2, 20)).working  # the make-up Saturday
    assert not is_working_day(D(2027, 2, 12)).working
    assert schedule.days.filter(kind=DayKind.MAKEUP_WORKDAY).count() == 2
    entry = AuditRecord.objects.get(action="calendar.schedule_enter")
    assert (entry.actor_display, entry.object_id, entry.details["year"]) == (
        "运维人员",
        str(schedule.pk),
        2027,
    )


def test_hooks_do_not_run_when_the_transaction_rolls_back(
    hook_calls, django_capture_on_commit_callbacks
):
    def enter_then_fail():
        with transaction.atomic():
            enter_2027()
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        enter_then_fail()
    assert hook_calls == []
    assert not HolidaySchedule.objects.exists()
    assert is_working_day(D(2027, 2, 20)).provisional


def test_a_second_entry_needs_replace(django_capture_on_commit_callbacks, hook_calls):
    with django_capture_on_commit_callbacks(execute=True):
        enter_2027()
    with pytest.raises(CalendarError) as caught:
        enter_2027(days=DAYS_2027[:-1])
    assert caught.value.code == CalendarErrorCode.SCHEDULE_EXISTS
    assert ScheduleDay.objects.count() == len(DAYS_2027)
    with django_capture_on_commit_callbacks(execute=True):
        replaced = enter_2027(days=DAYS_2027[:-1], replace=True, source="更正通知")
    assert (replaced.source, replaced.days.count()) == ("更正通知", len(DAYS_2027) - 1)
    assert HolidaySchedule.objects.count() == 1
    assert is_working_day(D(2027, 10, 9)).reason == calendar.DayReason.WEEKEND
    assert [c.year for c in hook_calls] == [2027, 2027]


def test_a_schedule_may_reach_into_the_previous_december(
    django_capture_on_commit_callbacks, hook_calls
):
    days = [*DAYS_2027, {"date": "2026-12-31", "kind": "holiday", "name": "元旦"}]
    with django_capture_on_commit_callbacks(execute=True):
        enter_2027(days=days)
    info = is_working_day(D(2026, 12, 31))
    assert (info.working, info.name) == (False, "元旦")
    assert sorted(c.year for c in hook_calls) == [2026, 2027]


def test_delete_schedule_falls_back_to_provisional(django_capture_on_commit_callbacks, hook_calls):
    with django_capture_on_commit_callbacks(execute=True):
        schedule = enter_2027()
    assert not is_working_day(D(2027, 2, 20)).provisional
    with django_capture_on_commit_callbacks(execute=True):
        delete_schedule(actor="运维人员", schedule=schedule)
    assert not ScheduleDay.objects.exists()
    assert is_working_day(D(2027, 2, 20)).provisional
    assert [c.reason for c in hook_calls] == ["schedule", "schedule_deleted"]
    assert list(AuditRecord.objects.order_by("seq").values_list("action", flat=True)) == [
        "calendar.schedule_enter",
        "calendar.schedule_delete",
    ]


def test_a_year_before_2000_works_once_entered():
    with pytest.raises(CalendarError):
        is_working_day(D(1999, 10, 4))
    enter_schedule(
        actor="运维人员",
        year=1999,
        source="国务院办公厅通知",
        published="1999-09-20",
        days=[("1999-10-01", "holiday", "国庆节"), ("1999-10-09", "makeup_workday", "国庆节")],
    )
    assert is_working_day(D(1999, 10, 4)).working
    assert is_working_day(D(1999, 10, 9)).working
    assert not is_working_day(D(1999, 10, 1)).working


# --- validation: every bad row, nothing saved -----------------------------------------------


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ({"date": "2027-02-30", "kind": "holiday", "name": "春节"}, RowErrorCode.BAD_DATE),
        ({"date": "27-2-1", "kind": "holiday", "name": "春节"}, RowErrorCode.BAD_DATE),
        ({"date": "2028-01-03", "kind": "holiday", "name": "元旦"}, RowErrorCode.OUTSIDE_YEAR),
        ({"date": "2026-12-24", "kind": "holiday", "name": "元旦"}, RowErrorCode.OUTSIDE_YEAR),
        ({"date": "2027-01-01", "kind": "holiday", "name": "元旦"}, RowErrorCode.DUPLICATE_DATE),
        ({"date": "2027-03-01", "kind": "vacation", "name": "x"}, RowErrorCode.BAD_KIND),
        (
            {"date": "2027-03-01", "kind": "makeup_workday", "name": ""},
            RowErrorCode.MAKEUP_NOT_WEEKEND,
        ),
        ({"date": "2027-03-01", "kind": "holiday", "name": " "}, RowErrorCode.NAME_REQUIRED),
        ({"date": "2027-03-01", "kind": "holiday", "name": "节" * 51}, RowErrorCode.NAME_TOO_LONG),
    ],
)
def test_bad_day_is_refused_and_nothing_changes(
    row, code, hook_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CalendarError) as caught:
        enter_2027(days=[*DAYS_2027, row])
    error = caught.value
    assert error.code == CalendarErrorCode.SCHEDULE_INVALID
    assert [(r.row, r.code) for r in error.rows] == [(len(DAYS_2027) + 1, code)]
    assert error.rows[0].message
    assert not HolidaySchedule.objects.exists()
    assert not ScheduleDay.objects.exists()
    assert not AuditRecord.objects.exists()
    assert hook_calls == []


def test_statutory_days_must_be_in_the_schedule():
    without_qingming = [d for d in DAYS_2027 if d["date"] != "2027-04-05"]
    with pytest.raises(CalendarError) as caught:
        enter_2027(days=without_qingming)
    assert [(r.row, r.code) for r in caught.value.rows] == [(0, RowErrorCode.STATUTORY_MISSING)]
    assert "2027-04-05" in caught.value.rows[0].message
    # After a revision of the law the operator can confirm the departure.
    enter_2027(days=without_qingming, accept_deviations=True)
    assert is_working_day(D(2027, 4, 5)).working


def test_statutory_day_cannot_be_a_working_day():
    days = [d for d in DAYS_2027 if d["date"] != "2027-02-06"] + [
        {"date": "2027-02-06", "kind": "makeup_workday", "name": "春节"}
    ]
    with pytest.raises(CalendarError) as caught:
        enter_2027(days=days)
    assert [r.code for r in caught.value.rows] == [RowErrorCode.STATUTORY_AS_WORKDAY]
    assert caught.value.rows[0].row == len(days)


def test_a_date_in_another_years_schedule_is_refused(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enter_2027(days=[*DAYS_2027, {"date": "2026-12-31", "kind": "holiday", "name": "元旦"}])
    with pytest.raises(CalendarError) as caught:
        enter_schedule(
            actor="x",
            year=2026,
            source="s",
            published=D(2025, 11, 4),
            days=[("2026-01-01", "holiday", "元旦"), ("2026-12-31", "holiday", "元旦")],
            accept_deviations=True,
        )
    assert [(r.row, r.code) for r in caught.value.rows] == [(2, RowErrorCode.IN_OTHER_SCHEDULE)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"year": 2100}, "年度"),
        ({"year": "二〇二七"}, "年度"),
        ({"source": "  "}, "依据文件"),
        ({"published": "2026-13-01"}, "发布日期"),
        ({"published": D(2099, 1, 1)}, "晚于今天"),
        ({"days": []}, "没有任何日期"),
        ({"days": [("2027-01-01", "holiday")]}, "日期"),
    ],
)
def test_bad_schedule_facts_are_refused(overrides, message):
    with pytest.raises(CalendarError) as caught:
        enter_2027(**overrides)
    assert caught.value.code == CalendarErrorCode.SCHEDULE_INVALID
    assert any(message in r.message for r in caught.value.rows)
    assert not HolidaySchedule.objects.exists()


# --- files ----------------------------------------------------------------------------------


def test_bad_csv_reports_every_row_with_its_line_and_changes_nothing(
    hook_calls, django_capture_on_commit_callbacks
):
    data = csv_bytes(
        *good_2027_rows(),
        "2027-03-01,makeup_workday,",  # line 5 + 38 = 43: a Monday
        "2027-13-01,holiday,元旦",
        "2027-03-02,holiday,春节,extra",
        "2027-03-06,休",  # two cells: name missing
    )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CalendarError) as caught:
        import_schedule_file(actor="运维人员", file=io.BytesIO(data))
    first = 5 + len(DAYS_2027)
    assert [(r.row, r.code) for r in caught.value.rows] == [
        (first, RowErrorCode.MAKEUP_NOT_WEEKEND),
        (first + 1, RowErrorCode.BAD_DATE),
        (first + 2, RowErrorCode.BAD_ROW),
        (first + 3, RowErrorCode.NAME_REQUIRED),
    ]
    assert str(caught.value.rows[0]).startswith(f"第{first}行：")
    assert not ScheduleDay.objects.exists()
    assert not AuditRecord.objects.exists()
    assert hook_calls == []


def test_csv_in_gb18030_with_chinese_header_and_kinds():
    rows = [
        f"{d['date'].replace('-', '/')},{'休' if d['kind'] == 'holiday' else '班'},{d['name']}"
        for d in DAYS_2027
    ]
    data = csv_bytes(*rows, header="日期,类型,名称", encoding="gb18030")
    schedule = import_schedule_file(actor="运维人员", file=data)
    assert schedule.days.count() == len(DAYS_2027)
    assert schedule.days.get(date=D(2027, 2, 20)).kind == DayKind.MAKEUP_WORKDAY


def test_csv_with_bom_and_metadata_from_the_caller():
    data = "\ufeffdate,kind,name\n" + "\n".join(good_2027_rows())
    schedule = import_schedule_file(
        actor="运维人员",
        file=SimpleUploadedFile("2027.csv", data.encode()),
        year=2027,
        source="通知",
        published="2026-11-20",
    )
    assert (schedule.year, schedule.source, schedule.published) == (2027, "通知", D(2026, 11, 20))


def test_caller_and_file_must_agree():
    with pytest.raises(CalendarError) as caught:
        import_schedule_file(actor="x", file=csv_bytes(*good_2027_rows()), year=2028)
    assert "2027" in caught.value.rows[0].message
    assert not HolidaySchedule.objects.exists()


def test_json_file(tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(
        json.dumps(
            {"year": 2027, "source": "通知", "published": "2026-11-20", "days": DAYS_2027},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    schedule = import_schedule_file(actor="运维人员", file=path)
    assert schedule.days.count() == len(DAYS_2027)


def test_json_bad_items_are_numbered():
    data = json.dumps(
        {
            "year": 2027,
            "source": "s",
            "published": "2026-11-20",
            "days": [*DAYS_2027, "x", {"date": "2027-02-31", "kind": "holiday", "name": "a"}],
        }
    )
    with pytest.raises(CalendarError) as caught:
        import_schedule_file(actor="x", file=SimpleUploadedFile("a.json", data.encode()))
    n = len(DAYS_2027)
    assert [(r.row, r.code) for r in caught.value.rows] == [
        (n + 1, RowErrorCode.BAD_ROW),
        (n + 2, RowErrorCode.BAD_DATE),
    ]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"2027-01-01,holiday,\xe5\x85\x83\xe6\x97\xa6\n", "x.csv"),  # no header
        (b"# only comments\n", "x.csv"),
        (b"{not json", "x.json"),
        (b'{"days": 3}', "x.json"),
        (b"\xff\xfe\x00\x00garbage\x81", "x.csv"),
        (b"x" * (300 * 1024), "x.csv"),
    ],
)
def test_unreadable_files_are_refused(data, name):
    with pytest.raises(CalendarError) as caught:
        import_schedule_file(actor="x", file=SimpleUploadedFile(name, data))
    assert caught.value.code == CalendarErrorCode.FILE_INVALID
    assert not HolidaySchedule.objects.exists()


def test_missing_file_path_is_a_calendar_error(tmp_path):
    with pytest.raises(CalendarError) as caught:
        import_schedule_file(actor="x", file=tmp_path / "none.csv")
    assert caught.value.code == CalendarErrorCode.FILE_INVALID


# --- management command ---------------------------------------------------------------------


def test_import_holidays_command(tmp_path):
    out = io.StringIO()
    call_command("import_holidays", str(EXAMPLE_2026), stdout=out)
    assert "2026: 39 days" in out.getvalue()
    assert HolidaySchedule.objects.get().entered_by.startswith("命令行")


def test_import_holidays_command_lists_bad_rows(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(*good_2027_rows(), "2027-03-01,makeup_workday,"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="schedule_invalid"):
        call_command("import_holidays", str(path), stderr=err)
    assert f"{5 + len(DAYS_2027)}\tmakeup_not_weekend\t" in err.getvalue()
    assert not HolidaySchedule.objects.exists()


# --- local holidays -------------------------------------------------------------------------


def test_save_local_holiday_validates_and_notifies(hook_calls, django_capture_on_commit_callbacks):
    county = RegionFactory(dongsheng=True)
    with pytest.raises(CalendarError) as caught:
        save_local_holiday(
            actor="x", holiday=LocalHoliday(region=county, name="坏", month=2, day=29)
        )
    assert caught.value.code == CalendarErrorCode.LOCAL_HOLIDAY_INVALID
    is_working_day(D(2026, 8, 5), region="150602")  # warm the cache
    with django_capture_on_commit_callbacks(execute=True):
        holiday = save_local_holiday(
            actor="运维人员", holiday=LocalHoliday(region=county, name="那达慕", date=D(2026, 8, 5))
        )
    assert not is_working_day(D(2026, 8, 5), region="150602").working
    assert (hook_calls[-1].year, hook_calls[-1].region_prefix) == (2026, "150602")
    holiday.date = D(2027, 8, 4)
    with django_capture_on_commit_callbacks(execute=True):
        save_local_holiday(actor="运维人员", holiday=holiday)
    assert is_working_day(D(2026, 8, 5), region="150602").working
    assert [c.year for c in hook_calls[-2:]] == [2026, 2027]
    with django_capture_on_commit_callbacks(execute=True):
        delete_local_holiday(actor="运维人员", holiday=holiday)
    assert is_working_day(D(2027, 8, 4), region="150602").working
    assert hook_calls[-1].reason == "local_holiday_deleted"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"date": D(2026, 8, 5), "month": 8, "day": 5},
        {"month": 8},
        {"month": 13, "day": 1},
        {"month": 6, "day": 31, "is_lunar": True},
        {"date": D(2026, 8, 5), "length_days": 0},
        {"date": D(2026, 8, 5), "length_days": 16},
        {"month": 8, "day": 5, "first_year": 2030, "last_year": 2029},
        {"date": D(2026, 8, 5), "first_year": 2026},
        {"date": D(2100, 8, 5)},
    ],
)
def test_local_holiday_rules(fields):
    county = RegionFactory(dongsheng=True)
    with pytest.raises(CalendarError):
        save_local_holiday(actor="x", holiday=LocalHoliday(region=county, name="节", **fields))
    assert not LocalHoliday.objects.exists()


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("operator", "op@example.cn", "secret-pass-123")
    login_backoffice(client, user)
    return client


IMPORT_URL = "/admin/core/holidayschedule/import/"


@pytest.mark.urls(__name__)
def test_admin_import_page_shows_year_sources(operator):
    response = operator.get(IMPORT_URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert "按放假办法推算" in text
    assert "2027" in text


@pytest.mark.urls(__name__)
def test_admin_import_success(operator, hook_calls, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("2026.csv", EXAMPLE_2026.read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(IMPORT_URL, {"file": upload})
    schedule = HolidaySchedule.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/core/holidayschedule/{schedule.pk}/change/")
    assert schedule.entered_by == "operator"
    assert [c.year for c in hook_calls] == [2026]
    detail = operator.get(response["Location"])
    assert detail.status_code == 200
    assert "2026-02-14" in detail.content.decode() or "2026年2月14日" in detail.content.decode()


@pytest.mark.urls(__name__)
def test_admin_import_errors_are_listed_per_row(operator):
    upload = SimpleUploadedFile(
        "bad.csv", csv_bytes(*good_2027_rows(), "2027-03-01,makeup_workday,")
    )
    response = operator.post(IMPORT_URL, {"file": upload})
    assert response.status_code == 200
    text = response.content.decode()
    assert "makeup_not_weekend" in text
    assert str(5 + len(DAYS_2027)) in text
    assert not HolidaySchedule.objects.exists()


@pytest.mark.urls(__name__)
def test_admin_import_is_denied_to_staff_without_permission(client):
    user = get_user_model().objects.create_user("clerk", password="secret-pass-123", is_staff=True)
    login_backoffice(client, user)
    upload = SimpleUploadedFile("2026.csv", EXAMPLE_2026.read_bytes())
    assert client.post(IMPORT_URL, {"file": upload}).status_code == 403
    assert not HolidaySchedule.objects.exists()
    client.logout()
    assert client.get(IMPORT_URL).status_code == 302  # to the login page


@pytest.mark.urls(__name__)
def test_admin_add_redirects_to_import_and_delete_uses_the_service(
    operator, hook_calls, django_capture_on_commit_callbacks
):
    assert operator.get("/admin/core/holidayschedule/add/")["Location"] == IMPORT_URL
    with django_capture_on_commit_callbacks(execute=True):
        schedule = enter_2027()
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            f"/admin/core/holidayschedule/{schedule.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert not HolidaySchedule.objects.exists()
    assert hook_calls[-1].reason == "schedule_deleted"
    assert operator.get("/admin/core/holidayschedule/").status_code == 200


@pytest.mark.urls(__name__)
def test_admin_local_holiday_add_goes_through_the_service(
    operator, hook_calls, django_capture_on_commit_callbacks
):
    county = RegionFactory(code="150602", name="东胜区", level=RegionLevel.COUNTY)
    is_working_day(D(2026, 8, 5), region="150602")
    form = {
        "region": county.pk,
        "name": "那达慕",
        "kind": "holiday",
        "date": "2026-08-05",
        "length_days": 1,
        "basis": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post("/admin/core/localholiday/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LocalHoliday.objects.get().entered_by == "operator"
    assert not is_working_day(D(2026, 8, 5), region="150602").working
    assert hook_calls[-1].region_prefix == "150602"
    bad = operator.post("/admin/core/localholiday/add/", {**form, "month": 8, "day": 5})
    assert bad.status_code == 200
    assert LocalHoliday.objects.count() == 1
    assert operator.get("/admin/core/localholiday/").status_code == 200
