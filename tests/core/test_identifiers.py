import datetime as dt

import pytest

from tongban.core.identifiers import (
    IdentifierError,
    license_check_char,
    validate_id_number,
    validate_license_identifier,
    validate_organization_code,
    validate_uscc,
)

VALID_USCC = [
    "91350100M000100Y43",
    "91310230MA1K314J7C",
    "91310230MA1K314K57",
    "11100000000013338W",
    "11220000013544541J",
    "11430000006122244L",
]
VALID_LICENSE_IDS = [
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


def reason(func, value, **kwargs):
    with pytest.raises(IdentifierError) as info:
        func(value, **kwargs)
    return info.value.reason


class TestIdNumber:
    def test_standard_vector_is_valid_and_normalized(self):
        assert validate_id_number("11010519491231002x") == "11010519491231002X"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("11010519491231002", "length"),
            ("1101051949123100XX", "characters"),
            ("99010519491231002X", "region"),
            ("110105194902300021", "date"),
            ("110105194912310021", "check"),
        ],
    )
    def test_each_kind_of_failure_names_its_reason(self, value, expected):
        assert reason(validate_id_number, value) == expected

    def test_birth_date_in_the_future_is_rejected(self):
        assert reason(validate_id_number, "11010520300101002X", today=dt.date(2026, 11, 23)) in {
            "date",
            "check",
        }

    def test_message_says_which_check_character_was_expected(self):
        with pytest.raises(IdentifierError) as info:
            validate_id_number("110105194912310021")
        assert "X" in str(info.value)


class TestUscc:
    @pytest.mark.parametrize("value", VALID_USCC)
    def test_published_vectors_are_valid(self, value):
        assert validate_uscc(value.lower()) == value

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("91350100M000100Y4", "length"),
            ("91350100M000100Y4I", "characters"),
            ("B1350100M000100Y43", "authority"),
            ("95350100M000100Y43", "category"),
            ("91990100M000100Y43", "region"),
            ("91350100M000100Y44", "check"),
        ],
    )
    def test_each_kind_of_failure_names_its_reason(self, value, expected):
        assert reason(validate_uscc, value) == expected

    def test_inner_organization_code_is_checked(self):
        from tongban.core.identifiers import uscc_check_char

        first17 = "91350100M000100Y5"  # inner check should be 4
        code = first17 + uscc_check_char(first17)
        assert reason(validate_uscc, code) == "organization_code"
        assert validate_uscc(code, check_organization_code=False) == code


class TestOrganizationCode:
    @pytest.mark.parametrize("value", ["M000100Y4", "MA1K314J7", "MA1K314K5"])
    def test_published_vectors_are_valid(self, value):
        assert validate_organization_code(value) == value

    def test_wrong_check_is_rejected(self):
        assert reason(validate_organization_code, "M000100Y5") == "check"


class TestLicenseIdentifier:
    @pytest.mark.parametrize("value", VALID_LICENSE_IDS)
    def test_published_vectors_are_valid(self, value):
        assert validate_license_identifier(value) == value

    def test_api_doc_example_ending_m_fails_with_expected_d(self):
        body = VALID_LICENSE_IDS[0].rsplit(".", 1)[0]
        with pytest.raises(IdentifierError) as info:
            validate_license_identifier(body + ".M")
        assert info.value.reason == "check"

    def test_agrees_with_python_stdnum(self):
        stdnum = pytest.importorskip("stdnum.iso7064.mod_37_36")
        for value in VALID_LICENSE_IDS:
            body = "".join(value.split(".")[5:9])
            assert stdnum.calc_check_digit(body) == license_check_char(body)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1.2.156.3005.3.X", "root"),
            ("1.2.156.3005.2.AAA.001.F", "segments"),
            ("1.2.156.3005.2.111.11220000013544541J.2430599.001.F", "type_code"),
            ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.01.F", "version"),
        ],
    )
    def test_malformed_segments_name_the_segment(self, value, expected):
        assert reason(validate_license_identifier, value) == expected
