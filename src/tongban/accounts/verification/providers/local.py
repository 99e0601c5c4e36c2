"""The local providers: the platform's own population table (PopulationRecord).

* :class:`LocalRealNameProvider` is the default for L2: operators load the table with
  ``tongban load_population`` (later it is fed by data sharing).
* :class:`LocalFaceProvider` is for the demo and the tests only. It takes no photo: it accepts
  a face check for a person who already passed L2 and whose population record exists. It
  refuses to run when ``TONGBAN_PRODUCTION`` is true, because it proves nothing about a face.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from tongban.accounts.models import PopulationRecord
from tongban.accounts.verification.base import (
    FaceEvidence,
    FaceProvider,
    Outcome,
    ProviderUnavailable,
    RealNameProvider,
)
from tongban.core.personal import lookup_digest


def _record(id_number: str) -> PopulationRecord | None:
    return PopulationRecord.objects.filter(
        id_number_digest=lookup_digest("id_number", id_number)
    ).first()


def _same_name(a: str, b: str) -> bool:
    """Names compare without spaces and with the two middle dots of minority names unified."""

    def norm(text: str) -> str:
        return "".join(text.split()).replace("•", "·").replace(".", "·")

    return norm(a) == norm(b)


class LocalRealNameProvider(RealNameProvider):
    name = "local"

    def check_real_name(self, *, real_name: str, id_number: str) -> Outcome:
        record = _record(id_number)
        # One message for "no such number" and "another name": the person learns only that
        # this pair is not on record.
        message = _("姓名与身份证号不一致，或人口信息库中没有该记录")
        if record is None:
            return Outcome(False, "no_record", message)
        if not _same_name(record.name, real_name):
            return Outcome(False, "name_mismatch", message)
        return Outcome(True, "", "", reference=f"population:{record.pk}")


class LocalFaceProvider(FaceProvider):
    name = "local"
    capture = "none"

    def check_face(self, *, real_name: str, id_number: str, evidence: FaceEvidence) -> Outcome:
        if getattr(settings, "TONGBAN_PRODUCTION", False):
            raise ProviderUnavailable(
                _(
                    "本地人脸核验仅用于演示和测试，生产环境不可使用；"
                    "请配置公安部门等机构的人脸核验服务（TONGBAN_FACE_PROVIDER）"
                )
            )
        if not evidence.consent:
            return Outcome(False, "no_consent", _("请确认由本人操作并同意进行人脸核验"))
        record = _record(id_number) if id_number else None
        if record is None or not _same_name(record.name, real_name):
            return Outcome(False, "no_record", _("人口信息库中没有您的记录，无法进行人脸核验"))
        return Outcome(True, "", "", reference=f"population:{record.pk}")
