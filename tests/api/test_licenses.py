"""The public license endpoints: verify (valid, revoked, tampered, garbage, bad JSON), keys, and
the revocation list checked offline with gmalg."""

import pytest

from tests.accounts.factories import StaffPostFactory
from tests.licenses.factories import LicenseFactory
from tests.seals.factories import SealFactory
from tongban.accounts.models import StaffRole
from tongban.accounts.staff import role_group
from tongban.licenses import keys, services
from tongban.licenses.models import License
from tongban.licenses.presentation import present
from tongban.seals.codes import SealType

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/licenses/verify"


@pytest.fixture
def seal(db):
    return SealFactory(seal_type=SealType.LICENSE)


@pytest.fixture
def manager(seal):
    user = StaffPostFactory(organization=seal.organization, role=StaffRole.ORG_ADMIN).user
    user.groups.add(role_group(StaffRole.ORG_ADMIN))
    return user


def _post(client, body):
    return client.post(VERIFY, body, content_type="application/json")


def test_verify_a_valid_then_revoked_license(client, seal, manager):
    lic = LicenseFactory(seal=seal)
    payload = present(lic, holder_user=lic.person)
    response = _post(client, {"payload": payload})
    assert response.status_code == 200
    body = response.json()
    assert (body["result"], body["valid"], body["status"], body["status_code"]) == (
        "valid",
        True,
        "valid",
        "01",
    )
    assert body["license"]["identifier"] == lic.identifier
    assert lic.holder_id_number not in response.content.decode()
    assert lic.holder_name not in response.content.decode()
    services.revoke_license(actor=manager, license=lic, reason="以欺骗手段取得")
    body = _post(client, {"payload": payload}).json()
    assert (body["result"], body["valid"], body["status_code"]) == ("revoked", False, "03")


def test_verify_tampered(client, seal):
    lic = LicenseFactory(seal=seal)
    payload = present(lic, holder_user=lic.person)
    License.objects.filter(pk=lic.pk).update(data={"scope": "全部"})
    assert _post(client, {"payload": payload}).json()["result"] == "tampered"


@pytest.mark.parametrize("payload", ["not a token", "AAAA", "x" * 500])
def test_garbage_payload_is_400(client, payload):
    response = _post(client, {"payload": payload})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_token",
        "message": response.json()["message"],
        "field": "payload",
    }


@pytest.mark.parametrize("body", ['{"payload": 12}', "{}", '{"payload": null}', "[]"])
def test_json_without_a_payload_is_422(client, body):
    response = client.post(VERIFY, body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_parameter"
    assert set(response.json()) == {"code", "message", "field"}


def test_a_body_that_is_not_json_is_400(client):
    response = client.post(VERIFY, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_json",
        "message": "请求体不是有效的JSON",
        "field": "",
    }


def test_keys_and_revocations_verify_offline(client, seal):
    gmalg = pytest.importorskip("gmalg")
    revoked = LicenseFactory(seal=seal, revoked=True)
    published = client.get("/api/v1/licenses/keys").json()
    assert any(k["seal_code"] == seal.code for k in published["seal_keys"])
    signed = client.get("/api/v1/licenses/revocations").json()
    assert [e["identifier"] for e in signed["list"]["entries"]] == [revoked.identifier]
    (platform,) = [
        k for k in published["platform_keys"] if k["version"] == signed["list"]["key_version"]
    ]
    signature = bytes.fromhex(signed["signature"])
    verifier = gmalg.SM2(pk=bytes.fromhex(platform["public_key"]), uid=signed["uid"].encode())
    message = keys.canonical_json(signed["list"])
    assert verifier.verify(message, signature[:32], signature[32:])
