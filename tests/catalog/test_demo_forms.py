"""The demo's blank (.xlsx) and sample (.pdf) form files: written once, renamed when they change."""

import io

import openpyxl
from django.core.files.storage import default_storage

from tongban.catalog import demo_forms
from tongban.catalog.demo_forms import ensure_forms, form_digest

FORM = {
    "title": "测试申请表",
    "sections": [
        {"heading": "申请人信息", "fields": [["姓名", "张三"], ["联系电话", "13800000000"]]},
    ],
    "declaration": "本人承诺所填内容真实有效。",
    "signatures": ["申请人签字", "日期"],
}


def test_files_are_written_once_and_found_again():
    first = ensure_forms({"test": FORM})
    assert (first.created, first.unchanged) == (2, 0)
    blank, sample = first.paths["test"]
    assert blank == f"catalog/forms/demo/test-{form_digest(FORM)}.xlsx"
    assert sample == f"catalog/samples/demo/test-{form_digest(FORM)}.pdf"
    with default_storage.open(blank) as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read())).active
    assert sheet["A1"].value == "测试申请表"
    assert [sheet.cell(row, 1).value for row in (4, 5)] == ["姓名", "联系电话"]
    with default_storage.open(sample) as handle:
        assert handle.read(5) == b"%PDF-"
    again = ensure_forms({"test": FORM})
    assert (again.created, again.unchanged) == (0, 2)
    assert again.paths == first.paths


def test_a_changed_form_or_renderer_gets_new_files(monkeypatch):
    original = ensure_forms({"test": FORM}).paths["test"]
    changed = ensure_forms({"test": {**FORM, "title": "测试申请表（修订）"}})
    assert changed.created == 2
    assert changed.paths["test"] != original
    monkeypatch.setattr(demo_forms, "FORM_RENDERER_VERSION", "test-next")
    assert form_digest(FORM) != original[0].rsplit("-", 1)[1].removesuffix(".xlsx")


def test_renderers_are_deterministic():
    assert demo_forms.render_blank_form(FORM) == demo_forms.render_blank_form(FORM)
    assert demo_forms.render_sample_form(FORM) == demo_forms.render_sample_form(FORM)


def test_the_blank_form_does_not_depend_on_the_clock(monkeypatch):
    import time

    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    early = demo_forms.render_blank_form(FORM)
    monkeypatch.setattr(time, "time", lambda: 1_800_007_263.0)
    assert demo_forms.render_blank_form(FORM) == early


def test_a_deleted_file_is_written_again():
    blank, sample = ensure_forms({"test": FORM}).paths["test"]
    default_storage.delete(sample)
    again = ensure_forms({"test": FORM})
    assert (again.created, again.unchanged) == (1, 1)
    assert default_storage.exists(sample)
    assert again.paths["test"] == (blank, sample)
