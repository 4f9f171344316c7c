"""`.github/component-bot.yml`: what a repository tells the bot. Absent file → defaults."""

from __future__ import annotations

from enum import Enum

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.paths import PathRefused, clean_directory, directories_up, shown_directory

CONFIG_PATH = ".github/component-bot.yml"


class ConfigFileError(ValueError):
    """The repository's config file is not valid YAML or not a valid config. The message quotes why."""


class MergePolicy(str, Enum):
    manual = "manual"
    on_approval = "on_approval"
    auto = "auto"


class MergeMethod(str, Enum):
    merge = "merge"
    squash = "squash"
    rebase = "rebase"


class RepoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    max_fix_iterations: int = Field(default=3, ge=0, le=20)
    max_step_attempts: int = Field(default=3, ge=1, le=10)
    protected_paths: list[str] = Field(default_factory=list)
    # A list (for every session), or per directory: {"services/api": [...], ".": [...]}, where the
    # nearest entry on the way up from the session's working directory decides.
    required_checks: list[str] | dict[str, list[str]] = Field(default_factory=list)
    working_directory: str = ""  # the sessions' working directory when the issue names none ("": the root)
    rules: list[str] = Field(default_factory=list)
    merge: MergePolicy = MergePolicy.manual
    merge_method: MergeMethod = MergeMethod.squash
    reviewers: list[str] = Field(default_factory=list)
    team_reviewers: list[str] = Field(default_factory=list)
    max_turns: int = Field(default=40, ge=1, le=500)
    token_budget: int = Field(default=2_000_000, ge=1_000)
    checks_appear_timeout: int = Field(default=600, ge=30, description="seconds")
    checks_timeout: int = Field(default=3600, ge=60, description="seconds")
    outage_max_wait: int = Field(default=6 * 3600, ge=60, description="seconds a session waits out an outage")
    report_max_bytes: int = Field(default=20_000, ge=1_000, le=200_000)
    branch_prefix: str = "component-bot/"

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("working_directory")
    @classmethod
    def _clean_working_directory(cls, value: str) -> str:
        try:
            return clean_directory(value)
        except PathRefused as exc:
            raise ValueError(f"a folder of the repository, from its root (like `services/api`): {exc}") from None

    @field_validator("required_checks")
    @classmethod
    def _clean_check_scopes(cls, value: list[str] | dict[str, list[str]]) -> list[str] | dict[str, list[str]]:
        if isinstance(value, list):
            return value
        scopes: dict[str, list[str]] = {}
        for key, checks in value.items():
            if key.strip() == "*":
                raise ValueError("`*` is not a directory: use `.` for the checks of the whole repository")
            try:
                folder = shown_directory(clean_directory(key))
            except PathRefused as exc:
                raise ValueError(f"the keys are folders of the repository, from its root: {exc}") from None
            if folder in scopes:
                raise ValueError(f"`{key}` names the folder `{folder}` a second time")
            scopes[folder] = checks
        return scopes

    def checks_required_in(self, working_directory: str) -> list[str]:
        """The required checks of a session working in `working_directory` ("" for the root): the
        list, or the entry of the nearest folder on the way up (none: every check counts)."""
        if isinstance(self.required_checks, list):
            return list(self.required_checks)
        for folder in reversed(directories_up(working_directory)):
            if shown_directory(folder) in self.required_checks:
                return list(self.required_checks[shown_directory(folder)])
        return []


def parse_repo_config(text: str | None) -> RepoConfig:
    """The config from the file's text (None: the file does not exist → defaults)."""
    if text is None or not text.strip():
        return RepoConfig()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{CONFIG_PATH} is not valid YAML:\n{exc}") from None
    if data is None:
        return RepoConfig()
    if not isinstance(data, dict):
        raise ConfigFileError(f"{CONFIG_PATH} must be a mapping of settings, not {type(data).__name__}")
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"- `{'.'.join(map(str, e['loc']))}`: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigFileError(f"{CONFIG_PATH} has invalid settings:\n{problems}") from None
