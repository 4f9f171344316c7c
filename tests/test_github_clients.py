"""The process's GitHub clients (bot/github/client.py), as httpx builds them for the network."""

from __future__ import annotations

import ssl

from bot.github.client import GitHubApps


async def tls_context_of(github) -> ssl.SSLContext:
    async with github, github.get_async_client() as http:
        return http._transport._pool._ssl_context


async def test_every_github_client_of_the_process_shares_one_tls_context(settings):
    """httpx loads the CA bundle into a new context for every client otherwise, and githubkit
    makes a client per wake and per request made outside one: milliseconds of CPU each, about
    a quarter of a worker's CPU in benchmarks/sessions_scale."""
    first, second = GitHubApps(settings), GitHubApps(settings)
    contexts = [await tls_context_of(github) for github in
                (first.app, first.installation(1), first.installation(2), second.installation(1))]
    assert isinstance(contexts[0], ssl.SSLContext) and contexts[0].verify_mode == ssl.CERT_REQUIRED
    assert all(context is contexts[0] for context in contexts)
