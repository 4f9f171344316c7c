"""Settings: each error is one line naming the setting; secrets never show."""

from __future__ import annotations

import logging

import pytest

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.telemetry.logs import JSONFormatter, TextFormatter, register_secret

SETTING_NAMES = ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "GITHUB_API_URL",
                 "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "DATABASE_URL", "BOT_MODEL", "BOT_TRIGGER_LABEL",
                 "LOG_LEVEL", "LOG_FORMAT", "BOT_PROVIDER", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "ANTHROPIC_BEDROCK_BASE_URL", "VERTEX_REGION", "CLOUD_ML_REGION", "VERTEX_PROJECT_ID",
                 "ANTHROPIC_VERTEX_PROJECT_ID", "ANTHROPIC_VERTEX_BASE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    settings = load_settings()
    assert settings.github_api_url == "https://api.github.com"
    assert settings.database_url == "sqlite+aiosqlite:///./component-bot.sqlite3"
    assert settings.bot_trigger_label == "implement-component"
    assert settings.log_level == "INFO"
    assert not settings.github_app_configured


def test_reads_dotenv_file(tmp_path, private_key_pem):
    one_line_pem = private_key_pem.strip().replace("\n", "\\n")
    (tmp_path / ".env").write_text(f'APP_ID=77\nPRIVATE_KEY="{one_line_pem}"\nWEBHOOK_SECRET=s3cret\n')
    settings = load_settings()
    assert settings.app_id == 77
    assert settings.private_key.get_secret_value() == private_key_pem
    assert settings.github_app_configured


def test_private_key_with_literal_newlines_is_accepted(monkeypatch, private_key_pem):
    monkeypatch.setenv("PRIVATE_KEY", private_key_pem.strip().replace("\n", "\\n"))
    assert load_settings().private_key.get_secret_value() == private_key_pem


def test_private_key_path(tmp_path, monkeypatch, private_key_pem):
    (tmp_path / "key.pem").write_text(private_key_pem)
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(tmp_path / "key.pem"))
    assert load_settings().private_key.get_secret_value() == private_key_pem


def test_missing_private_key_file_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match="PRIVATE_KEY_PATH"):
        load_settings()


def test_bad_private_key_names_the_setting_not_the_value(monkeypatch):
    monkeypatch.setenv("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nnotakeyatall\n-----END RSA PRIVATE KEY-----")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "PRIVATE_KEY" in str(caught.value)
    assert "notakeyatall" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("APP_ID", "twelve"), ("GITHUB_API_URL", "ftp://example"), ("DATABASE_URL", "mysql://x/y"),
     ("LOG_LEVEL", "LOUD"), ("BOT_PROVIDER", "azure"), ("AWS_REGION", "US East 1"), ("VERTEX_REGION", "us_east5"),
     ("ANTHROPIC_BEDROCK_BASE_URL", "bedrock.internal"), ("ANTHROPIC_VERTEX_BASE_URL", "ftp://vertex")],
)
def test_invalid_value_is_one_line_naming_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message
    assert "\n" not in message


# ------------------------------------------------------------------ model providers


@pytest.mark.parametrize(("env", "missing"), [
    ({"BOT_PROVIDER": "bedrock"}, "AWS_REGION"),
    ({"BOT_PROVIDER": "bedrock", "AWS_REGION": " "}, "AWS_REGION"),
    ({"BOT_PROVIDER": "vertex", "VERTEX_PROJECT_ID": "widgets-ml"}, "VERTEX_REGION or CLOUD_ML_REGION"),
    ({"BOT_PROVIDER": "vertex", "CLOUD_ML_REGION": "us-east5"}, "VERTEX_PROJECT_ID or ANTHROPIC_VERTEX_PROJECT_ID"),
])
def test_a_missing_provider_setting_is_one_line_naming_it(monkeypatch, env, missing):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"missing setting {missing} (")
    assert f"BOT_PROVIDER={env['BOT_PROVIDER']}" in message and "\n" not in message


@pytest.mark.parametrize("provider", ["bedrock", "vertex"])
def test_serve_without_a_provider_setting_is_a_one_line_error(monkeypatch, capsys, provider):
    monkeypatch.setenv("BOT_PROVIDER", provider)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing setting" in err and "Traceback" not in err
    assert ("AWS_REGION" if provider == "bedrock" else "VERTEX_REGION") in err


def test_provider_settings_and_the_sdks_own_names_for_them(monkeypatch):
    assert load_settings().bot_provider == "anthropic"
    monkeypatch.setenv("BOT_PROVIDER", "Bedrock")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert (load_settings().bot_provider, load_settings().aws_region) == ("bedrock", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert load_settings().aws_region == "eu-central-1"
    monkeypatch.setenv("BOT_PROVIDER", "vertex")
    monkeypatch.setenv("CLOUD_ML_REGION", "global")
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "widgets-ml")
    settings = load_settings()
    assert (settings.vertex_region, settings.vertex_project_id) == ("global", "widgets-ml")
    monkeypatch.setenv("VERTEX_REGION", "us-east5")
    monkeypatch.setenv("VERTEX_PROJECT_ID", "widgets-prod")
    settings = load_settings()
    assert (settings.vertex_region, settings.vertex_project_id) == ("us-east5", "widgets-prod")


def test_bedrock_and_vertex_need_no_anthropic_api_key(monkeypatch):
    assert not load_settings().model_provider_configured
    monkeypatch.setenv("BOT_PROVIDER", "bedrock")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert load_settings().model_provider_configured


def test_database_url_forms_are_mapped_to_async_drivers(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db:5432/bot")
    assert load_settings().database_url == "postgresql+psycopg://bot@db:5432/bot"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////var/lib/bot.db")
    assert load_settings().database_url == "sqlite+aiosqlite:////var/lib/bot.db"


def test_log_level_is_case_insensitive(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"


def test_secrets_do_not_appear_in_repr(private_key_pem):
    settings = Settings(_env_file=None, app_id=1, private_key=private_key_pem, webhook_secret="hook-secret-value",
                        anthropic_api_key="sk-ant-api-key-value")
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "hook-secret-value" not in text
        assert "sk-ant-api-key-value" not in text
        assert "PRIVATE KEY" not in text


# With none of them set, `serve` starts in setup mode instead (tests/web/test_setup.py).
@pytest.mark.parametrize(("missing", "env"), [
    ("APP_ID", {"WEBHOOK_SECRET": "s"}),
    ("PRIVATE_KEY", {"APP_ID": "5"}),
    ("WEBHOOK_SECRET", {"APP_ID": "5", "PRIVATE_KEY": "pem"}),
])
def test_serve_with_partial_app_credentials_is_a_one_line_error(monkeypatch, capsys, private_key_pem, missing, env):
    for name, value in env.items():
        monkeypatch.setenv(name, private_key_pem if value == "pem" else value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert missing in err
    assert "Traceback" not in err


def test_invalid_setting_error_from_the_cli_hides_the_value(monkeypatch, capsys):
    monkeypatch.setenv("APP_ID", "hunter2-secretish")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "APP_ID" in err and "hunter2" not in err


@pytest.mark.parametrize("formatter", [JSONFormatter(), TextFormatter()])
def test_logs_redact_registered_secrets_and_tokens(formatter, private_key_pem):
    register_secret("webhook-secret-for-redaction")
    register_secret(private_key_pem)
    message = (f"oops webhook-secret-for-redaction and token ghs_{'a' * 36} and "
               f"sk-ant-api03-{'b' * 20} and {private_key_pem}")
    record = logging.LogRecord("bot", logging.ERROR, __file__, 1, message, None, None)
    line = formatter.format(record)
    assert "webhook-secret-for-redaction" not in line
    assert "ghs_" not in line
    assert "sk-ant-" not in line
    assert "PRIVATE KEY" not in line
    assert "oops" in line
