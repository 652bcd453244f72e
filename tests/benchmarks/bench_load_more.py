"""How long the console's "Load more" takes as the ticket list grows, in Chromium.

Usage: python tests/benchmarks/bench_load_more.py [--tickets 3000] [--pages 20]

Fills a scratch SQLite database with the demo tickets (`seed_demo`), serves the console on it
(`reflex run --env prod`, as the browser tests do), signs in as an admin at 1280x800 and
presses "Load more" `--pages` times. Each press is timed from the click until the list shows
the next page's rows; the table prints the rows before and after each press and its time.
The scratch database and build directory are removed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import ADMIN_EMAIL, CHROMIUM_ARGS, add_user, serve, session_cookie
from ticket_app.cli.demo_data import seed_demo
from ticket_app.services.database import use_database

PAGE_SIZE = 25


def measure(base_url: str, cookie: dict[str, str], pages: int) -> list[tuple[int, int, float]]:
    """(rows before, rows after, seconds) for each of `pages` presses of "Load more"."""
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(60_000)
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(f"{base_url}/")
        rows = page.get_by_test_id("ticket-row")
        rows.nth(PAGE_SIZE - 1).wait_for()
        for _ in range(pages):
            before = rows.count()
            start = time.perf_counter()
            page.locator("#load-more").click()
            rows.nth(before + PAGE_SIZE - 1).wait_for()
            timings.append((before, rows.count(), time.perf_counter() - start))
        browser.close()
    return timings


def main() -> None:
    """Seed, serve, press "Load more" and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-load-more-"))
    try:
        with serve(work) as server:
            use_database(server.database_url)
            seed_demo(args.tickets, seed=2026)
            add_user(server, ADMIN_EMAIL, "admin")
            timings = measure(server.base_url, session_cookie(server, ADMIN_EMAIL), args.pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"Load more on {args.tickets:,} demo tickets (1280x800, Chromium)")
    print(f"{'rows':>12}  {'seconds':>8}")
    for before, after, seconds in timings:
        print(f"{before:>5} -> {after:<4}  {seconds:>8.2f}")


if __name__ == "__main__":
    main()
