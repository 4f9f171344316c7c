"""The spec locks, the test names of a test file, and the attribution of failed checks: pure."""

from __future__ import annotations

import pytest

from bot.core.attribution import CheckOutcome, FailingTest, attribute
from bot.core.spec import conftests_on_the_way, defined_test_names, is_component_test, spec_locks

TESTS = "tests/unit/test_stack.py"
NAMES = frozenset({"test_push_pop", "test_pop_empty"})


def test_the_locks_cover_the_spec_the_pipeline_and_the_instructions():
    patterns = [lock.pattern for lock in spec_locks("docs/stack.md", TESTS, ["vendor/**"])]
    assert patterns[:2] == [TESTS, "docs/stack.md"]
    assert {"conftest.py", "tests/conftest.py", "tests/unit/conftest.py", ".github", ".gitattributes",
            ".gitmodules", "AGENTS.md", "*/AGENTS.md", "CLAUDE.md", "*/CLAUDE.md", "vendor/**"} <= set(patterns)


def test_each_lock_tells_the_model_what_to_do_instead():
    [test_lock] = [lock for lock in spec_locks("docs/stack.md", TESTS) if lock.pattern == TESTS]
    assert "report_spec_problem" in test_lock.reason


def test_conftests_from_the_root_down_to_the_test_folder():
    assert conftests_on_the_way("test_x.py") == ["conftest.py"]
    assert conftests_on_the_way("a/b/test_x.py") == ["conftest.py", "a/conftest.py", "a/b/conftest.py"]


@pytest.mark.parametrize(("text", "expected"), [
    ("def test_a():\n    pass\nasync def test_b(x):\n", {"test_a", "test_b"}),
    ("func TestPush(t *testing.T) {}\nfunc helper() {}\n", {"TestPush"}),
    ("#[test]\nfn pops_last() {}\n#[tokio::test]\nasync fn waits() {}\n", {"pops_last", "waits"}),
    ('  test "push then pop" do\n', {"push then pop"}),
    ("it('pushes', () => {});\ntest.each([1])(\"pops %i\", () => {})\n", {"pushes"}),
])
def test_names_of_the_tests_a_file_defines(text, expected):
    assert expected <= defined_test_names(text)


def test_a_listed_test_is_the_components_by_file_or_by_name():
    assert is_component_test("tests/unit/test_stack.py::test_push_pop", "tests/unit/test_stack.py", TESTS, NAMES)
    assert not is_component_test("tests/test_other.py::test_push_pop", "tests/test_other.py", TESTS, NAMES)
    assert is_component_test("TestStack/test_pop_empty", None, TESTS, NAMES)
    assert not is_component_test("TestOther", None, TESTS, NAMES)


def head(*tests, read=True, kind="test"):
    return CheckOutcome("test", tuple(FailingTest(t, t.split("::")[0], kind) for t in tests), read)


def verdict(h, b):
    return attribute(h, b, base_sha="abcdef1234", test_path=TESTS, test_names=NAMES)


def test_the_same_failures_on_the_base_outside_the_component_are_excused():
    result = verdict(head("tests/test_db.py::test_a"), head("tests/test_db.py::test_a", "tests/test_db.py::test_b"))
    assert not result.counted and "abcdef1" in result.why


def test_one_new_failing_test_is_counted():
    result = verdict(head("tests/test_db.py::test_a", "tests/test_db.py::test_c"), head("tests/test_db.py::test_a"))
    assert result.counted and "test_c" in result.why


@pytest.mark.parametrize(("h", "b", "words"), [
    (head("stack_rs [build failed]", kind="build"), head("stack_rs [build failed]", kind="build"), "build"),
    (head(read=False), head("tests/test_db.py::test_a"), "could be read"),
    (head(), head("tests/test_db.py::test_a"), "could be read"),
    (head(f"{TESTS}::test_push_pop"), head(f"{TESTS}::test_push_pop"), "component's test file"),
    (head("tests/test_db.py::test_a"), None, "did not fail on the base"),
    (head("tests/test_db.py::test_a"), head(read=False), "could not be read"),
    (head("tests/test_db.py::test_a"), head("x [build failed]", kind="build"), "could not be read"),
])
def test_anything_unproven_counts_against_the_session(h, b, words):
    result = verdict(h, b)
    assert result.counted and words in result.why


def test_the_spec_statement_names_blobs_or_who_changed_what():
    from bot.core.spec import SpecFile, spec_statement

    same = [SpecFile(TESTS, "a" * 40, "a" * 40), SpecFile("docs/stack.md", "b" * 40, "b" * 40)]
    assert spec_statement(same) == f"Spec unchanged: `{TESTS}` (blob aaaaaaa), `docs/stack.md` (blob bbbbbbb)"
    changed = [SpecFile(TESTS, "a" * 40, "c" * 40, "d" * 40, "maria"), same[1]]
    assert spec_statement(changed) == (f"Spec changed on the branch: `{TESTS}` changed by @maria in ddddddd "
                                       "(blob aaaaaaa → blob ccccccc); `docs/stack.md` unchanged (blob bbbbbbb)")
