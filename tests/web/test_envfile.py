"""Writing the App's settings into `.env`: replace those keys, keep everything else byte for byte."""

from __future__ import annotations

import os
import stat

import pytest

from bot.config import Settings
from webhooks.envfile import set_values, updated


def test_appends_to_an_empty_file():
    assert updated("", {"APP_ID": "5"}) == 'APP_ID="5"\n'


def test_replaces_in_place_and_keeps_the_rest():
    text = "# comment\nAPP_ID=1\nOTHER=x\n\nexport WEBHOOK_SECRET = 'old'\nLAST=y"
    assert updated(text, {"APP_ID": "2", "WEBHOOK_SECRET": "new", "GITHUB_CLIENT_ID": "Iv1"}) == (
        '# comment\nAPP_ID="2"\nOTHER=x\n\nWEBHOOK_SECRET="new"\nLAST=y\nGITHUB_CLIENT_ID="Iv1"\n')


def test_drops_later_duplicates_and_matches_names_case_insensitively():
    assert updated("app_id=1\nX=1\nAPP_ID=3\n", {"APP_ID": "9"}) == 'APP_ID="9"\nX=1\n'


def test_replaces_a_quoted_value_spanning_several_lines():
    text = 'A=1\nPRIVATE_KEY="-----BEGIN\nabc\n-----END"\nB=2\nC=\'multi\nline\'\n'
    assert updated(text, {"PRIVATE_KEY": "k", "C": "c"}) == 'A=1\nPRIVATE_KEY="k"\nB=2\nC="c"\n'


def test_keeps_windows_line_endings():
    assert updated("A=1\r\nAPP_ID=1\r\n", {"APP_ID": "2"}) == 'A=1\r\nAPP_ID="2"\r\n'


def test_values_are_quoted_so_that_dotenv_reads_them_back(tmp_path, private_key_pem):
    path = tmp_path / ".env"
    secret = 'we"ird\\n # not a comment $HOME'
    set_values(path, {"APP_ID": "12", "PRIVATE_KEY": private_key_pem, "WEBHOOK_SECRET": secret})
    assert len(path.read_text().splitlines()) == 3, "the PEM is written on one line"
    settings = Settings(_env_file=path)
    assert settings.app_id == 12
    assert settings.private_key.get_secret_value() == private_key_pem
    assert settings.webhook_secret.get_secret_value() == secret


def test_file_is_private_and_replaced_atomically(tmp_path):
    path = tmp_path / ".env"
    path.write_text("KEEP=1\n")
    os.chmod(path, 0o644)
    set_values(path, {"APP_ID": "1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == 'KEEP=1\nAPP_ID="1"\n'
    assert [p.name for p in tmp_path.iterdir()] == [".env"], "no temporary file left behind"


def test_a_symlinked_env_file_is_written_where_it_points(tmp_path):
    target = tmp_path / "secrets" / "bot.env"
    target.parent.mkdir()
    target.write_text("KEEP=1\n")
    link = tmp_path / ".env"
    link.symlink_to(target)
    set_values(link, {"APP_ID": "1"})
    assert link.is_symlink() and target.read_text() == 'KEEP=1\nAPP_ID="1"\n'


def test_a_path_that_cannot_be_written_raises_and_leaves_nothing(tmp_path):
    (tmp_path / ".env").mkdir()
    with pytest.raises(OSError):
        set_values(tmp_path / ".env", {"APP_ID": "1"})
    assert [p.name for p in tmp_path.iterdir()] == [".env"]
