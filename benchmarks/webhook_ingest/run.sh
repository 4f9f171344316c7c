#!/usr/bin/env bash
# Webhook ingest benchmark, one command:
#   bash benchmarks/webhook_ingest/run.sh [bench.py options, e.g. --targets sqlite,probot --rates 500,1000]
# Uses the Python that has component-bot installed: PYTHON=..., else the active virtualenv, else the
# one beside `component-bot` on PATH, else a virtualenv it makes in benchmarks/webhook_ingest/.venv.
# Installs the Probot baseline's npm packages into benchmarks/webhook_ingest/probot/node_modules and
# starts PostgreSQL if it is installed but not answering. Every run is bounded in count and time; the
# default one takes about 3.5 minutes on 2 cores.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

has_bench_deps() { "$1" -c "import bot, webhooks, uvloop, httptools, psycopg, cryptography" 2>/dev/null; }

if [ -z "${PYTHON:-}" ] && [ -n "${VIRTUAL_ENV:-}" ] && has_bench_deps "$VIRTUAL_ENV/bin/python"; then
  PYTHON="$VIRTUAL_ENV/bin/python"
fi
if [ -z "${PYTHON:-}" ]; then
  if command -v component-bot >/dev/null && has_bench_deps "$(dirname "$(command -v component-bot)")/python"; then
    PYTHON="$(dirname "$(command -v component-bot)")/python"
  else
    PYTHON="$HERE/.venv/bin/python"
    if ! has_bench_deps "$PYTHON"; then
      echo "== making $HERE/.venv with the project installed"
      python3 -m venv "$HERE/.venv"
      "$PYTHON" -m pip install --quiet --upgrade pip
      "$PYTHON" -m pip install --quiet -e "$REPO"
    fi
  fi
fi
has_bench_deps "$PYTHON" || { echo "$PYTHON lacks component-bot or uvicorn[standard]; pip install -e . first" >&2; exit 2; }

command -v node >/dev/null || { echo "node (>= 20.18) is needed for the Probot baseline" >&2; exit 2; }
if [ ! -d "$HERE/probot/node_modules/probot" ]; then
  echo "== installing the Probot baseline's npm packages into $HERE/probot/node_modules"
  (cd "$HERE/probot" && npm ci --no-audit --no-fund --loglevel=error)
fi

targets="sqlite,postgres,postgres-workers,probot,probot-cluster"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "== PostgreSQL is not answering on 127.0.0.1:5432; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || { echo "== no PostgreSQL: skipping that target"; targets="sqlite,probot,probot-cluster"; }
fi

exec "$PYTHON" "$HERE/bench.py" --targets "$targets" "$@"
