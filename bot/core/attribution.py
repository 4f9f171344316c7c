"""Whose failure is it? A failed check is excused only when it is proven to be the base's own.

A failed check on the session's head is excused ("pre-existing") only if all of these hold:
its failures on the head were read as a non-empty set of test ids, with no build error among
them; the same check failed on the base commit, with test ids read there too; every head
failure is among the base's; and none is in the component's test file (those fail on the base
by design: the tests are written before the implementation). Anything else counts against the
session: unreadable output, a missing log, a build or compile error, a check from an app whose
output we cannot read. Pure: the callers gather the facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.spec import is_component_test


@dataclass(frozen=True)
class FailingTest:
    test_id: str
    file: str | None = None
    kind: str = "test"  # test | build


@dataclass(frozen=True)
class CheckOutcome:
    """What a failed check's output says, as far as it could be read."""

    name: str
    failures: tuple[FailingTest, ...] = ()
    read: bool = True  # False: no log or output could be read (404, another app, nothing parsed)


@dataclass(frozen=True)
class Verdict:
    name: str
    counted: bool
    why: str


def attribute(head: CheckOutcome, base: CheckOutcome | None, *, base_sha: str, test_path: str,
              test_names: frozenset[str]) -> Verdict:
    """Counted against the session, or excused, with the reason in words for people and the model."""
    builds = [f.test_id for f in head.failures if f.kind != "test"]
    if builds:
        return Verdict(head.name, True, f"a build or compile error stopped the tests: {_listed(builds)}")
    if not head.read or not head.failures:
        return Verdict(head.name, True, "no failing test could be read from its output, so it cannot be "
                                        "shown to fail without this change")
    own = [f.test_id for f in head.failures if is_component_test(f.test_id, f.file, test_path, test_names)]
    if own:
        return Verdict(head.name, True, f"tests of the component's test file fail: {_listed(own)}")
    short = base_sha[:7]
    if base is None:
        return Verdict(head.name, True, f"it did not fail on the base commit {short}")
    base_ids = {f.test_id for f in base.failures if f.kind == "test"}
    if not base.read or not base_ids or any(f.kind != "test" for f in base.failures):
        return Verdict(head.name, True, f"it fails on the base commit {short} too, but which tests fail there "
                                        "could not be read")
    new = sorted({f.test_id for f in head.failures} - base_ids)
    if new:
        return Verdict(head.name, True, f"tests that pass on the base commit {short} fail here: {_listed(new)}")
    return Verdict(head.name, False, f"the same {len(head.failures)} test(s) fail on the base commit {short}, "
                                     "so this change did not cause them")


def _listed(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
