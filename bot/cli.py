"""The `component-bot` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging, register_secret

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="component-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="apply migrations, then serve the webhook endpoint")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(handler=cmd_migrate)

    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=cmd_version)
    return parser


def prepare(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)
    for secret in (settings.private_key, settings.webhook_secret, settings.anthropic_api_key):
        if secret is not None:
            register_secret(secret.get_secret_value())


def cmd_version(args: argparse.Namespace) -> int:
    print(f"component-bot {__version__}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.db import migrate

    settings = load_settings()
    prepare(settings)
    migrate(settings.database_url)
    log.info("database is at the latest migration")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.db import migrate
    from webhooks.app import create_app

    settings = load_settings()
    settings.require_github_app()
    prepare(settings)
    migrate(settings.database_url)
    if settings.anthropic_api_key is None:
        log.warning("ANTHROPIC_API_KEY is not set: sessions will fail at the first step that needs Claude")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, access_log=args.access_log,
                log_config=None, proxy_headers=True, server_header=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"component-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
