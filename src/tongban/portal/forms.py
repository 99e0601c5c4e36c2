"""Parsing what citizens send in URLs: search filters and situation answers.

Bad values never reach a query: they become a Chinese message beside the field.
"""

from __future__ import annotations

import re

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Audience, OnlineDepth
from tongban.catalog.queries import MAX_ID, MAX_PAGE

MAX_QUERY_LENGTH = 100
SITUATION_PARAM = re.compile(r"^s(\d{1,12})$")
MAX_ANSWERED_SITUATIONS = 50

AUDIENCE_CHOICES = [
    ("", _("不限对象")),
    (Audience.PERSON, _("个人办事")),
    (Audience.ENTERPRISE, _("法人办事")),
]
DEPTH_CHOICES = [
    ("", _("不限深度")),
    *[(str(value), label) for value, label in OnlineDepth.choices],
]


class SearchForm(forms.Form):
    """``/search`` parameters. Region, theme and organization are checked against the catalog
    by the view's query; here only their shape is checked."""

    q = forms.CharField(
        label=_("搜索办事服务"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        strip=True,
        error_messages={"max_length": _("搜索词不能超过%(limit_value)d个字。")},
    )
    region = forms.RegexField(
        label=_("地区"),
        required=False,
        regex=r"^[0-9]{6}(?:[0-9]{6})?$",
        error_messages={"invalid": _("地区代码应为6位或12位数字。")},
    )
    audience = forms.ChoiceField(
        label=_("服务对象"),
        required=False,
        choices=AUDIENCE_CHOICES,
        error_messages={"invalid_choice": _("服务对象只能是个人或法人。")},
    )
    theme = forms.SlugField(
        label=_("主题"),
        required=False,
        max_length=40,
        error_messages={"invalid": _("主题编码格式不正确。")},
    )
    org = forms.IntegerField(
        label=_("部门"),
        required=False,
        min_value=1,
        max_value=MAX_ID,
        error_messages={
            "invalid": _("部门编号应为正整数。"),
            "min_value": _("部门编号应为正整数。"),
            "max_value": _("部门编号不存在。"),
        },
    )
    depth = forms.TypedChoiceField(
        label=_("网办深度"),
        required=False,
        choices=DEPTH_CHOICES,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("网办深度只能是Ⅰ至Ⅳ级。")},
    )
    page = forms.IntegerField(
        label=_("页码"),
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={
            "invalid": _("页码应为正整数。"),
            "min_value": _("页码应为正整数。"),
            "max_value": _("页码不能超过%(limit_value)d。"),
        },
    )

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1


class AnswerError(ValueError):
    """Situation answers in the URL that are not numbers."""


def parse_answers(params: QueryDict) -> dict[int, set[int]]:
    """``s<situation id>=<option id>`` (repeated for multiple choice) → ``{situation: {options}}``.

    Other parameters are ignored. Raises :class:`AnswerError` when an id is not a number or
    there are too many. Whether the ids belong to the guide is checked by
    ``catalog.guides.clean_answers``.
    """
    answers: dict[int, set[int]] = {}
    for key in params:
        match = SITUATION_PARAM.match(key)
        if not match:
            continue
        values = [v for v in params.getlist(key) if v != ""]
        if not values:
            continue
        if len(answers) >= MAX_ANSWERED_SITUATIONS or len(values) > MAX_ANSWERED_SITUATIONS:
            raise AnswerError(key)
        options: set[int] = set()
        for value in values:
            if not value.isdigit() or len(value) > 12:
                raise AnswerError(key)
            options.add(int(value))
        answers[int(match.group(1))] = options
    return answers
