"""Monorepos, the pure parts: the issue's `Working directory`, the config's `working_directory` and
`required_checks` per folder, and which instruction files a working directory reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import templates
from bot.core.component import Component, ComponentNotSpecified, parse_component
from bot.core.paths import clean_directory, directories_up, is_within
from bot.core.repo_config import ConfigFileError, RepoConfig, parse_repo_config
from bot.core.spec import instruction_order, instruction_paths, spec_locks
from bot.github.paths import PathRefused, normalize_path

ISSUE_FORM = Path(templates.__file__).parent / "issue-forms" / "implement-component.yml"

FORM = "### Component\n\nApi Client\n\n### Design file\n\n{design}\n\n### Test file\n\n{tests}\n\n" \
       "### Working directory\n\n{directory}\n\n### Notes\n\n_No response_\n"


def form(directory: str, design: str = "services/api/docs/client.md",
         tests: str = "services/api/tests/test_client.py") -> str:
    return FORM.format(directory=directory, design=design, tests=tests)


# ----------------------------------------------------------------------------- the issue


def test_the_issue_forms_working_directory_is_read_and_the_spec_paths_stay_repository_relative():
    assert parse_component(form("`services/api/`")) == Component(
        "Api Client", "services/api/docs/client.md", "services/api/tests/test_client.py", "services/api")
    assert parse_component(form("services/api", design="docs/client.md")).design_path == "docs/client.md"


def test_a_hand_written_issue_names_it_in_a_line():
    body = "Component: Api Client\nDesign file: docs/c.md\nTest file: tests/test_c.py\nWorking directory: ./libs/core\n"
    assert parse_component(body).working_directory == "libs/core"


@pytest.mark.parametrize(("answer", "directory"), [("_No response_", None), (".", ""), ("/", ""), ("./", "")])
def test_no_answer_leaves_it_to_the_config_and_the_root_can_be_named(answer, directory):
    assert parse_component(form(answer)).working_directory == directory


def test_a_working_directory_without_the_other_fields_does_not_make_it_optional():
    with pytest.raises(ComponentNotSpecified) as caught:
        parse_component("### Component\n\nX\n\n### Working directory\n\nservices/api\n")
    assert "**design file**, **test file**" in str(caught.value) and "working directory" not in str(caught.value)


@pytest.mark.parametrize("answer", ["../elsewhere", "/etc", "services/../../x", "services/.git/hooks"])
def test_a_working_directory_outside_the_repository_is_refused_with_what_to_do(answer):
    with pytest.raises(ComponentNotSpecified) as caught:
        parse_component(form(answer))
    assert "**working directory**" in str(caught.value) and "services/api" in str(caught.value)


def test_the_shipped_issue_form_has_an_optional_working_directory_that_the_parser_reads():
    body = yaml.safe_load(ISSUE_FORM.read_text())["body"]
    fields = {f["attributes"]["label"]: f for f in body if f["type"] == "input"}
    assert fields["Working directory"]["validations"]["required"] is False
    rendered = "".join(f"### {label}\n\n{field['attributes']['placeholder']}\n\n" for label, field in fields.items())
    assert parse_component(rendered).working_directory == fields["Working directory"]["attributes"]["placeholder"]


# ----------------------------------------------------------------------------- the paths


def test_directories_on_the_way_up_and_what_is_within():
    assert clean_directory(" services/api/ ") == "services/api" and clean_directory(".") == ""
    assert directories_up("services/api") == ["", "services", "services/api"] and directories_up("") == [""]
    assert is_within("services/api/x.py", "services/api") and is_within("x.py", "")
    assert not is_within("services/apix/x.py", "services/api")


def test_the_instruction_files_of_a_working_directory_are_the_roots_and_each_folders_down_to_it():
    assert instruction_paths("") == ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md"]
    paths = instruction_paths("services/api")
    assert paths[3:] == ["services/AGENTS.md", "services/CLAUDE.md", "services/api/AGENTS.md", "services/api/CLAUDE.md"]
    shuffled = ["services/api/CLAUDE.md", "AGENTS.md", "services/AGENTS.md", ".github/copilot-instructions.md"]
    assert sorted(shuffled, key=instruction_order) == [".github/copilot-instructions.md", "AGENTS.md",
                                                       "services/AGENTS.md", "services/api/CLAUDE.md"]


def test_nested_instruction_files_stay_locked():
    locks = spec_locks("services/api/docs/c.md", "services/api/tests/test_c.py")
    for path in ("services/api/AGENTS.md", "services/CLAUDE.md"):
        with pytest.raises(PathRefused, match="instructions"):
            normalize_path(path, locks)


# ----------------------------------------------------------------------------- the config


def test_the_config_names_a_default_working_directory():
    assert parse_repo_config("working_directory: services/api/\n").working_directory == "services/api"
    assert parse_repo_config("working_directory: .\n").working_directory == ""
    assert RepoConfig().working_directory == ""


@pytest.mark.parametrize("text", ["working_directory: ../x\n", "working_directory: /srv\n"])
def test_a_config_working_directory_outside_the_repository_is_an_error(text):
    with pytest.raises(ConfigFileError, match="working_directory"):
        parse_repo_config(text)


def test_required_checks_as_a_list_apply_to_every_working_directory():
    config = parse_repo_config("required_checks: [test, 'lint-*']\n")
    assert config.checks_required_in("") == config.checks_required_in("services/api") == ["test", "lint-*"]


def test_required_checks_per_folder_the_nearest_on_the_way_up_decides():
    config = parse_repo_config("required_checks:\n  services/api/: [api-tests]\n  services: [services-tests]\n"
                               "  .: [lint, test]\n")
    assert config.checks_required_in("services/api") == ["api-tests"]
    assert config.checks_required_in("services/api/v2") == ["api-tests"]
    assert config.checks_required_in("services/web") == ["services-tests"]
    assert config.checks_required_in("libs") == config.checks_required_in("") == ["lint", "test"]
    assert RepoConfig.model_validate(config.model_dump(mode="json")) == config  # as the record keeps it


def test_without_an_entry_for_the_root_other_folders_count_every_check():
    assert parse_repo_config("required_checks:\n  services/api: [api-tests]\n").checks_required_in("libs") == []


@pytest.mark.parametrize(("text", "says"), [
    ("required_checks:\n  '*': [x]\n", "use `.`"),
    ("required_checks:\n  ../x: [x]\n", "would leave the repository"),
    ("required_checks:\n  a: [x]\n  a/: [y]\n", "a second time"),
    ("required_checks:\n  a: x\n", "required_checks"),
])
def test_bad_per_folder_checks_are_explained(text, says):
    with pytest.raises(ConfigFileError, match="required_checks") as caught:
        parse_repo_config(text)
    assert says in str(caught.value)
