"""The `component-bot` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

import httpx
from githubkit.exception import RequestError, RequestFailed
from sqlalchemy.exc import DBAPIError

from bot.cli import operators, serve, worker
from bot.cli.common import database_error, github_error
from bot.config import ConfigError
from bot.ops.queries import OpsError
from bot.ops.redeliver import DurationError


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="component-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.add_commands(commands)
    worker.add_commands(commands)
    operators.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, github_transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`github_transport` replaces the network to GitHub (tests pass the fake GitHub's)."""
    args = build_parser().parse_args(argv)
    args.github_transport = github_transport
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"component-bot: {exc}", file=sys.stderr)
        return 2
    except (OpsError, DurationError) as exc:
        print(f"component-bot: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"component-bot: {database_error(exc)}", file=sys.stderr)
        return 1
    except (RequestFailed, RequestError, httpx.HTTPError) as exc:
        print(f"component-bot: {github_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
