# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
COPY webhooks ./webhooks
COPY migrations ./migrations
COPY templates ./templates
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bot
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/app.yml /app/app.yml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BOT_PROVIDER=anthropic \
    DATABASE_URL=sqlite:////data/component-bot.sqlite3
RUN mkdir /data && chown bot:bot /data
WORKDIR /data
USER bot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
CMD ["component-bot", "serve"]
