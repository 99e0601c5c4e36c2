import pytest

from tongban.conf import ConfigError, env_bool, env_int, env_list, env_str


def test_defaults_apply_when_unset(monkeypatch):
    monkeypatch.delenv("TB_X", raising=False)
    assert env_str("TB_X", "d") == "d"
    assert env_bool("TB_X", True) is True
    assert env_int("TB_X", 3) == 3
    assert env_list("TB_X", ["a"]) == ["a"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("False", False)]
)
def test_booleans_are_parsed(monkeypatch, raw, expected):
    monkeypatch.setenv("TB_X", raw)
    assert env_bool("TB_X", not expected) is expected


def test_bad_boolean_fails_with_the_variable_name(monkeypatch):
    monkeypatch.setenv("TB_X", "maybe")
    with pytest.raises(ConfigError, match="TB_X"):
        env_bool("TB_X", False)


def test_bad_integer_and_minimum_fail_with_the_variable_name(monkeypatch):
    monkeypatch.setenv("TB_X", "ten")
    with pytest.raises(ConfigError, match="TB_X"):
        env_int("TB_X", 1)
    monkeypatch.setenv("TB_X", "-1")
    with pytest.raises(ConfigError, match="at least 0"):
        env_int("TB_X", 1, minimum=0)


def test_file_variant_reads_secrets_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n", encoding="utf-8")
    monkeypatch.setenv("TB_X_FILE", str(secret))
    assert env_str("TB_X", "default") == "s3cr3t"


def test_unreadable_file_variant_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("TB_X_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="TB_X_FILE"):
        env_str("TB_X", "default")


def test_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("TB_X", "a.example, b.example,,")
    assert env_list("TB_X", []) == ["a.example", "b.example"]
