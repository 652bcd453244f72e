# Production image of Triage Desk: the Reflex UI and the REST API served together on port 3000.
#
#   docker build -t triage-desk .
#   docker run -p 3000:3000 -e DATABASE_URL=postgresql+psycopg://user:pass@host:5432/db triage-desk
#
# The start command (`python -m ticket_app serve`) applies pending Alembic migrations, then runs
# `reflex run --env prod`; tests/deploy runs the same command outside Docker.

# bun and Node come from npm, as in the Makefile: Reflex's own installer downloads them from
# hosts that may be unreachable. The `bun` and `node` packages carry the binaries.
FROM node:22-bookworm-slim AS js
ARG BUN_VERSION=1.4.5
ARG NODE_VERSION=22.22.0
RUN npm install --prefix /opt/js --no-audit --no-fund --loglevel=error \
        "bun@${BUN_VERSION}" "node@${NODE_VERSION}" \
    && /opt/js/node_modules/.bin/bun --version \
    && /opt/js/node_modules/.bin/node --version

FROM python:3.11-slim-bookworm
# One server per container: `serve` would give a PORT other than 3000 a fresh build folder of its
# own (.web-<port>, for several servers in one checkout); here it keeps the prebuilt .web.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/js/node_modules/.bin:$PATH \
    REFLEX_USE_SYSTEM_BUN=true \
    REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_CHECK_LATEST_VERSION=false \
    NPM_CONFIG_REGISTRY=https://registry.npmjs.org/ \
    PORT=3000 \
    HOST=0.0.0.0 \
    REFLEX_WEB_WORKDIR=/app/.web \
    REFLEX_STATES_WORKDIR=/app/.states

# The app user owns /app: a container start rebuilds the frontend into /app/.web.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
    && install -d -o app -g app /app
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY --from=js /opt/js /opt/js
COPY --chown=app:app . .

# Build the frontend now (JS dependencies included) so a container start only refreshes it.
USER app
RUN reflex export --frontend-only --no-zip --env prod \
    && rm -rf .states

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/ping', timeout=4)"]
CMD ["python", "-m", "ticket_app", "serve"]
