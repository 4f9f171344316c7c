"""50 MB logs: parsed through a bounded view, failures found, report capped."""

from __future__ import annotations

from bot.cilogs import parse_log, render

from tests.cilogs.logs import GO_IDS, PYTEST_IDS, actions_log, by_id, filler_log, ids, read_log


def test_a_50_megabyte_pytest_log_is_capped_and_keeps_its_failures():
    raw = read_log("pytest_failures.log").splitlines()
    banner, failures_part = raw[:5], raw[7:]

    def passing(n: int) -> str:
        return f"tests/test_bulk.py::test_generated_{n} PASSED{' ' * 30}[ {n % 100:2d}%]"

    text = actions_log(banner) + filler_log(passing, 50_000_000) + actions_log(failures_part)
    assert len(text.encode("utf-8")) >= 50_000_000

    parsed = parse_log(text)
    rendered = render(parsed)

    assert len(rendered.encode("utf-8")) <= 20_000
    assert parsed.runner == "pytest"
    assert ids(parsed) == PYTEST_IDS
    assert "tests/test_stack.py::test_peek_empty_raises_key_error" in rendered
    assert "IndexError: list index out of range" in rendered


def test_a_50_megabyte_go_log_finds_a_failure_in_the_middle():
    failure = read_log("go_test_verbose_failures.log").splitlines()[:-2]

    def filler(n: int) -> str:
        return [
            f"=== RUN   TestBulk{n}",
            f"    bulk_test.go:9: case {n} ok",
            f"--- PASS: TestBulk{n} (0.00s)",
        ][n % 3]

    text = (
        filler_log(filler, 25_000_000)
        + actions_log(failure)
        + filler_log(filler, 25_000_000)
        + actions_log(["FAIL\texample.com/stackgo\t31.337s", "FAIL"])
    )
    assert len(text.encode("utf-8")) >= 50_000_000

    parsed = parse_log(text)
    rendered = render(parsed)

    assert len(rendered.encode("utf-8")) <= 20_000
    assert parsed.runner == "go"
    assert ids(parsed) == GO_IDS
    assert by_id(parsed)["TestPushPop"].message == "Pop() = 1, want 2"
    assert "TestLenTable/two_items" in rendered
