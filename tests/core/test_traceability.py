"""The traceability table is checked, not trusted: the design's headings, the files on the branch, the
functions in them and the tests the test file defines."""

from __future__ import annotations

import pytest

from bot.core.traceability import WHOLE_DOCUMENT, Basis, Table, check, headings, parse, rejection

DESIGN = """# Stack

A LIFO stack.

## Push and pop

`push` adds, `pop` removes.

```python
# not a heading
x = 1
```

Errors
------

pop on empty raises IndexError.

## Background ##

Stacks are old.
"""
TESTS = """from widgets.stack import Stack


def test_push_pop():
    pass


class TestErrors:
    def test_pop_empty_raises(self):
        pass
"""
IMPL = "class Stack:\n    def push(self, x): ...\n    def pop(self): ...\n"
TREE = {"widgets/stack.py", "widgets/__init__.py", "docs/stack.md", "tests/test_stack.py"}


@pytest.fixture
def basis() -> Basis:
    return Basis.of("docs/stack.md", DESIGN, "tests/test_stack.py", TESTS)


def good_rows() -> list[dict]:
    return [
        {"heading": "Errors", "files": [{"path": "widgets/stack.py", "functions": ["Stack.pop"]}],
         "tests": ["tests/test_stack.py::TestErrors::test_pop_empty_raises"]},
        {"heading": "Push and pop", "files": [{"path": "./widgets/stack.py", "functions": ["Stack.push", "pop()"]}],
         "tests": ["test_push_pop"]},
        {"heading": "background", "not_applicable": "Not applicable, because it is history."},
    ]


def verdict(rows, basis, tree=TREE, texts=None):
    table = parse({"rows": rows})
    assert isinstance(table, Table), table
    return check(table, basis, tree, texts if texts is not None else {"widgets/stack.py": IMPL})


def test_headings_atx_and_setext_outside_code_fences_and_front_matter():
    assert headings(DESIGN) == [(1, "Stack"), (2, "Push and pop"), (2, "Errors"), (2, "Background")]
    assert headings("---\ntitle: x\n---\n# A [link](http://x)\n\n- item\n---\n~~~\n## no\n~~~\n") == [(1, "A link")]


def test_the_title_is_optional_and_a_design_without_headings_is_one_section():
    basis = Basis.of("d.md", DESIGN, "t.py", TESTS)
    assert basis.sections == ("Push and pop", "Errors", "Background") and basis.optional == ("Stack",)
    assert Basis.of("d.md", "Just prose.\n", "t.py", TESTS).sections == (WHOLE_DOCUMENT,)
    assert Basis.of("d.md", "# Only a title\n\ntext\n", "t.py", TESTS).sections == ("Only a title",)


def test_a_true_table_passes_in_the_designs_order_and_spelling(basis):
    result = verdict(good_rows(), basis)
    assert result.problems == ()
    assert [r.heading for r in result.table.rows] == ["Push and pop", "Errors", "Background"]
    push = result.table.rows[0]
    assert push.files[0].path == "widgets/stack.py" and push.files[0].functions == ("Stack.push", "pop")
    assert result.table.rows[2].not_applicable == "it is history."
    assert Table.from_dict(result.table.as_dict()) == result.table


def test_a_test_the_test_file_does_not_define_is_named_with_the_closest_one(basis):
    rows = good_rows()
    rows[1]["tests"] = ["test_push_popp"]
    result = verdict(rows, basis)
    assert result.table is None
    assert result.problems == (("row 2 ('Push and pop'): test `test_push_popp` is not defined in tests/test_stack.py "
                                "(did you mean `test_push_pop`?)"),)
    assert "The tests tests/test_stack.py defines: test_pop_empty_raises, test_push_pop" in rejection(
        result.problems, basis)


def test_a_test_of_another_file_does_not_count(basis):
    rows = good_rows()
    rows[1]["tests"] = ["tests/test_other.py::test_push_pop"]
    assert "is not defined in tests/test_stack.py" in verdict(rows, basis).problems[0]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda rows: rows.pop(0), "no row for 'Errors'"),
    (lambda rows: rows.append({"heading": "Persistence", "files": [{"path": "widgets/stack.py"}]}),
     "docs/stack.md has no such heading"),
    (lambda rows: rows.append({"heading": "## Errors", "files": [{"path": "widgets/stack.py"}]}),
     "'Errors' is already listed in row 1"),
    (lambda rows: rows[0]["files"].__setitem__(0, {"path": "widgets/stak.py"}),
     "`widgets/stak.py` is not a file on the branch (did you mean `widgets/stack.py`?)"),
    (lambda rows: rows[0]["files"][0]["functions"].append("Stack.peek"), "`Stack.peek` does not appear in"),
    (lambda rows: rows[0]["files"].append({"path": "tests/test_stack.py"}), "is the spec, not the implementation"),
    (lambda rows: rows[2].update(tests=["test_push_pop"]), "either `not_applicable` or files and tests"),
    (lambda rows: rows[0].pop("files"), "name the files that implement it, or give `not_applicable`"),
])
def test_each_false_claim_is_named(basis, change, problem):
    rows = good_rows()
    change(rows)
    result = verdict(rows, basis)
    assert result.table is None and any(problem in p for p in result.problems), result.problems


def test_a_malformed_call_says_what_shape_is_expected():
    assert parse({}) == ["`rows` must be a non-empty list: one row per heading of the design"]
    assert parse({"rows": [{"heading": "A", "tests": "test_a"}]}) == ["row 1: `tests` must be a list of test names"]


def test_a_file_that_is_not_text_cannot_vouch_for_functions(basis):
    result = verdict(good_rows(), basis, texts={"widgets/stack.py": None})
    assert any("is not text" in p for p in result.problems)


def test_without_known_test_names_a_test_must_appear_in_the_file():
    basis = Basis.of("d.md", "# A\n", "t.bats", '@test "adds two numbers" {\n}\n')
    rows = [{"heading": "A", "files": [{"path": "widgets/stack.py"}], "tests": ["adds two numbers"]}]
    assert verdict(rows, basis).problems == ()
    rows[0]["tests"] = ["subtracts"]
    assert verdict(rows, basis).problems
