"""In-process fakes of the external systems the bot talks to (GitHub, Anthropic).

Import them from their modules, e.g. ``from tests.fakes.github import FakeGitHub``;
``from tests.fakes import FakeGitHub`` also works (loaded lazily).
"""


def __getattr__(name: str):
    if name in ("FakeGitHub", "ApiError", "Call"):
        from . import github

        return getattr(github, name)
    raise AttributeError(name)
