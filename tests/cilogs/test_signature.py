"""failure_signature: blind to run-to-run noise, sensitive to changed failures."""

from __future__ import annotations

from bot.cilogs import failure_signature, parse_log

from tests.cilogs.logs import read_log


def test_signature_ignores_timings_addresses_temp_paths_and_thread_ids():
    noisy = {
        "pytest_failures.log": [
            ("0.03s", "12.71s"),
            ("0x7f20682cb8d0", "0x7fffb1c2d3e4"),
            ("0x7f20682c9b90", "0x55d0a1b2c3d4"),
        ],
        "go_test_failures.log": [
            ("(0.00s)", "(1.37s)"),
            ("0.004s", "2.310s"),
            ("0xc00009a4e0", "0xc000182000"),
        ],
        "cargo_test_failures.log": [
            ("(7896)", "(31337)"),
            ("finished in 0.09s", "finished in 3.14s"),
        ],
    }
    for name, replacements in noisy.items():
        text = read_log(name)
        changed = text
        for old, new in replacements:
            assert old in text
            changed = changed.replace(old, new)

        assert failure_signature(parse_log(changed)) == failure_signature(parse_log(text)), name


def test_signature_ignores_line_number_shifts_and_temp_dirs_in_messages():
    def log(line: int, tmp: str) -> str:
        return "\n".join(
            [
                "--- FAIL: TestSave (0.01s)",
                f"    store_test.go:{line}: open {tmp}/data.json: permission denied",
                "FAIL",
                "FAIL\texample.com/store\t0.012s",
            ]
        )

    first = parse_log(log(12, "/tmp/TestSave1234567/001"))
    second = parse_log(log(15, "/tmp/TestSave7654321/001"))

    assert failure_signature(first) == failure_signature(second)


def test_signature_changes_when_the_failures_change():
    text = read_log("pytest_failures.log")
    baseline = failure_signature(parse_log(text))
    other_message = text.replace("E       assert 3 == 2", "E       assert 4 == 2")
    summary_only = read_log("pytest_short_summary.log")
    one_fixed = summary_only.replace(
        "FAILED tests/test_stack.py::test_len_counts_items - assert 2 == 1\n", ""
    )

    assert failure_signature(parse_log(other_message)) != baseline
    assert failure_signature(parse_log(one_fixed)) != failure_signature(parse_log(summary_only))
    assert failure_signature(parse_log(read_log("go_test_failures.log"))) != baseline


def test_signature_does_not_depend_on_failure_order():
    text = read_log("pytest_short_summary.log")
    failed = [line for line in text.splitlines() if line.startswith("FAILED")]
    reordered = text.replace("\n".join(failed), "\n".join(reversed(failed)))

    assert reordered != text
    assert failure_signature(parse_log(reordered)) == failure_signature(parse_log(text))
