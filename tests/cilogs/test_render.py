"""render: the report text never exceeds its byte cap."""

from __future__ import annotations

import re

import pytest

from bot.cilogs import parse_log, render


def many_pytest_failures(count: int, message: str = "assert {n} == -1") -> str:
    lines = [
        "=" * 30 + " test session starts " + "=" * 30,
        f"collected {count} items",
        "",
        "=" * 35 + " FAILURES " + "=" * 35,
    ]
    for n in range(count):
        lines += [
            f"{'_' * 20} test_case_{n} {'_' * 20}",
            "",
            f"    def test_case_{n}():",
            f">       assert compute({n}) == -1",
            f"E       {message.format(n=n)}",
            "",
            f"tests/test_many.py:{n + 1}: AssertionError",
        ]
    lines.append("=" * 30 + " short test summary info " + "=" * 30)
    lines += [
        f"FAILED tests/test_many.py::test_case_{n} - {message.format(n=n)}" for n in range(count)
    ]
    lines.append(f"{'=' * 30} {count} failed in 1.23s {'=' * 30}")
    return "\n".join(lines)


@pytest.mark.parametrize("max_bytes", [20_000, 5_000, 1_000])
def test_render_never_exceeds_the_cap_and_says_what_it_left_out(max_bytes):
    parsed = parse_log(many_pytest_failures(500), max_bytes=max_bytes)

    text = render(parsed)

    assert len(text.encode("utf-8")) <= max_bytes
    assert "1. tests/test_many.py::test_case_0" in text
    shown = len(re.findall(r"^\d+\. tests/test_many.py::", text, re.M))
    assert text.rstrip().endswith(f"… {500 - shown} more failures omitted")


def test_render_keeps_details_for_the_first_failures_and_breadth_for_the_rest():
    parsed = parse_log(many_pytest_failures(120))

    text = render(parsed)

    assert len(text.encode("utf-8")) <= 20_000
    assert ">       assert compute(0) == -1" in text
    assert ">       assert compute(119) == -1" not in text
    assert "120. tests/test_many.py::test_case_119\n   at tests/test_many.py:120\n    assert 119 == -1" in text
    assert "omitted" not in text


def test_render_cuts_multibyte_text_on_a_character_boundary():
    parsed = parse_log(
        many_pytest_failures(50, message="assert '€🙂{n}' * 300 == ''"), max_bytes=3_001
    )

    for limit in (3_001, 777, 101, 5):
        text = render(parsed, max_bytes=limit)
        encoded = text.encode("utf-8")
        assert len(encoded) <= limit
        assert encoded.decode("utf-8") == text


def test_render_shows_a_huge_single_failure_shortened():
    message = "\n".join(f"E       line {n}: " + "x" * 150 for n in range(200))
    text = many_pytest_failures(1).replace("E       assert 0 == -1", message)

    rendered = render(parse_log(text, max_bytes=2_000))

    assert len(rendered.encode("utf-8")) <= 2_000
    assert "1. tests/test_many.py::test_case_0" in rendered
    assert "line 0: xxx" in rendered


def test_render_of_the_excerpt_keeps_its_end():
    lines = [f"error {n}: something broke in unit {n}" for n in range(400)]

    rendered = render(parse_log("\n".join(lines), max_bytes=1_500))

    assert len(rendered.encode("utf-8")) <= 1_500
    assert rendered.rstrip().endswith("error 399: something broke in unit 399")
    assert "earlier lines omitted" in rendered
