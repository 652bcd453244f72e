"""The console's navigation to its first rows on /, timed in Chromium (issue 26).

Usage: python tests/benchmarks/bench_console_first_rows.py [--database-url URL]
       [--tickets 1000] [--runs 5]

Serves the app as `reflex run --env prod` on a free port (a scratch SQLite database unless
`--database-url` names one; generated tickets are added up to `--tickets`), signs an admin in,
then `--runs` times launches a fresh Chromium (no cache), opens the list and prints, in ms from
the navigation's start (the page's own clock, `performance.now()`): the document's response,
DOMContentLoaded, the event socket's creation, the first event sent on it, the first state
answered on it, and the first ticket row visible. Then the median of each.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.sync_api import sync_playwright

from tests.support.server import free_port, reflex_env, running_server
from ticket_app.cli import bench_data
from ticket_app.models import ActorKind
from ticket_app.services.access import Actor
from ticket_app.services.database import use_database
from ticket_app.services.identity import sessions, users
from ticket_app.services.migrations import upgrade_database

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROW = "[data-testid=ticket-row]"
# Installed before the page's scripts: stamps the event socket's milestones with the page's
# clock (ms since the navigation started) in `window.__firstRows`.
SOCKET_MARKS = """
window.__firstRows = {};
const mark = (name) => {
  if (!(name in window.__firstRows)) window.__firstRows[name] = performance.now();
};
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    mark("socket created");
    this.addEventListener("open", () => mark("socket open"));
    this.addEventListener("message", (event) => {
      if (String(event.data).includes("delta")) mark("first state received");
    });
  }
  send(data) { mark("first event sent"); return super.send(data); }
};
"""
FIRST_ROW = f"""() => document.querySelector("{ROW}") ? performance.now() : null"""
MILESTONES = (
    "document",
    "DOMContentLoaded",
    "socket created",
    "socket open",
    "first event sent",
    "first state received",
    "first row",
)


def one_visit(chromium_path: str, base_url: str, cookie: dict[str, str]) -> dict[str, float]:
    """A fresh browser: the milestones of one navigation to the list, ms from its start."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies([cookie])
        context.add_init_script(SOCKET_MARKS)
        page = context.new_page()
        page.goto(f"{base_url}/", wait_until="commit")
        rows_at = page.wait_for_function(FIRST_ROW, polling="raf", timeout=60_000).json_value()
        marks = page.evaluate(
            """() => { const n = performance.getEntriesByType("navigation")[0];
                       return {...window.__firstRows, document: n.responseEnd,
                               DOMContentLoaded: n.domContentLoadedEventEnd}; }"""
        )
        browser.close()
    marks["first row"] = rows_at
    return {name: float(marks.get(name, float("nan"))) for name in MILESTONES}


def main() -> None:
    """Serve the app, time `--runs` fresh visits, print each and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        url = args.database_url or f"sqlite:///{work / 'tickets.db'}"
        upgrade_database(url)
        use_database(url)
        missing = args.tickets - bench_data.stored_tickets()
        if missing > 0:
            bench_data.load_tickets(url, missing, seed=26)
        email, password = f"rows-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(18)
        system = Actor.process(ActorKind.SYSTEM, "first-rows bench")
        users.create_user(email, "admin", password, actor=system)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod"]
        command += ["--frontend-port", str(port), "--backend-port", str(port)]
        command += ["--backend-host", "127.0.0.1"]
        env = reflex_env(DATABASE_URL=url, REFLEX_WEB_WORKDIR=str(work / "web"))
        with running_server(
            command, ready_url=f"{base_url}/ping", timeout=300, log=work / "reflex.log", env=env
        ):
            signed_in = sessions.sign_in(email, password)
            cookie = {"name": sessions.SESSION_COOKIE, "value": signed_in.token, "url": base_url}
            print(f"{bench_data.stored_tickets():,} tickets; load average {os.getloadavg()[0]:.2f}")
            visits = [one_visit(chromium, base_url, cookie) for _ in range(args.runs)]
        names = list(visits[0])
        print(" | ".join(["run", *names]))
        for number, visit in enumerate(visits, 1):
            print(" | ".join([str(number), *(f"{visit[name]:.0f}" for name in names)]))
        medians = [statistics.median(visit[name] for visit in visits) for name in names]
        print(" | ".join(["median", *(f"{value:.0f}" for value in medians)]))
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
