"""Real-name assurance levels, shared by the catalog (the level a service requires) and accounts
(the level a person has reached). Kept in core because the catalog sits below accounts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VerificationLevel(models.IntegerChoices):
    L0 = 0, _("未认证")
    L1 = 1, _("L1 手机号已验证")
    L2 = 2, _("L2 姓名与身份证号已核验")
    L3 = 3, _("L3 人脸已核验")


# What a service may require: at least a confirmed phone.
REQUIRABLE_LEVELS = [(value, label) for value, label in VerificationLevel.choices if value >= 1]
