"""What a real-name verification provider has to answer.

Two checks, each possibly by a different vendor:

* **name + ID number** (L2): does the population register hold this name under this number?
* **face** (L3): is the person in front of the camera the holder of this ID number? A real
  provider (the public-security 互联网+可信身份认证 platform, a bank's or a carrier's face API)
  compares a live photo or a liveness token from its own capture SDK with the ID photo of the
  register. :class:`FaceEvidence` carries whichever the provider asks for: ``capture`` says
  whether the page must upload a photo.

A provider answers :class:`Outcome` (passed or not, with a machine reason and a message for the
person), or raises :class:`ProviderUnavailable` when it cannot answer at all (not configured,
gateway down, refused in production).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar


class ProviderUnavailable(RuntimeError):
    """The provider cannot check now; ``message`` is shown to the person."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str = ""  # machine code, e.g. "no_record", "name_mismatch", "face_mismatch"
    message: str = ""  # for the person, in Chinese
    reference: str = ""  # the provider's transaction number, kept in the audit record


@dataclass(frozen=True)
class FaceEvidence:
    """What the capture step produced: a photo (JPEG/PNG bytes), and/or a liveness token or
    transaction id from the provider's SDK, and the person's explicit consent."""

    consent: bool
    photo: bytes | None = field(default=None, repr=False)
    photo_type: str = ""
    liveness_token: str = ""


class RealNameProvider(ABC):
    """Checks a name against an ID number (L2)."""

    name: ClassVar[str]

    @abstractmethod
    def check_real_name(self, *, real_name: str, id_number: str) -> Outcome: ...


class FaceProvider(ABC):
    """Checks that a face belongs to the holder of an ID number (L3)."""

    name: ClassVar[str]
    #: "photo" when the page must upload a picture, "none" when the provider needs only consent
    #: (its own SDK or redirect captures the face).
    capture: ClassVar[str] = "photo"

    @abstractmethod
    def check_face(self, *, real_name: str, id_number: str, evidence: FaceEvidence) -> Outcome: ...
