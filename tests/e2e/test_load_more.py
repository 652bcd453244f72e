"""Issue 25, item 3: "Load more" costs the same at row 150 as at row 25, in Chromium.

It took 0.56 s from 25 to 50 rows and 2.98 s from 125 to 150: each press rendered every row
shown again (eight pill menus a row), not only the page it added. The browser counts what it
does for each press: the rows React renders (through the hook React calls after each commit,
the one its developer tools use) and the bytes the server sends over the event socket.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import SYSTEM, AppServer, add_user, session_cookie
from ticket_app.schemas import TicketCreate
from ticket_app.services.database import use_database
from ticket_app.services.tickets import create_ticket

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PAGE = 25
PRESSES = 6

# React calls `__REACT_DEVTOOLS_GLOBAL_HOOK__.onCommitFiberRoot` after every commit, also in a
# production build. A row is counted when its <tr> was rendered in that commit: new, or given
# new props. Subtrees whose child list React kept as it was (nothing in them rendered) are not
# walked, so rows React skipped are not counted from props they kept since an earlier commit.
COUNT_ROW_RENDERS = """
window.__rowRenders = 0;
window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
  supportsFiber: true,
  renderers: new Map(),
  inject() { return 1; },
  checkDCE() {},
  onScheduleFiberRoot() {},
  onCommitFiberUnmount() {},
  onPostCommitFiberRoot() {},
  onCommitFiberRoot(_renderer, root) {
    const stack = [root.current];
    while (stack.length) {
      const fiber = stack.pop();
      const before = fiber.alternate;
      const props = fiber.memoizedProps;
      if (typeof fiber.type === "string" && props && props["data-testid"] === "ticket-row"
          && (!before || before.memoizedProps !== props)) {
        window.__rowRenders += 1;
      }
      if (fiber.child && (!before || fiber.child !== before.child)) {
        for (let child = fiber.child; child; child = child.sibling) stack.push(child);
      }
    }
  },
};
"""


def _tickets(app: AppServer, tag: str, count: int) -> None:
    """`count` tickets tagged `tag`, stored as an operator's import would (no HTTP round trip)."""
    use_database(app.database_url)
    for number in range(count):
        create_ticket(
            TicketCreate(
                title=f"Load more {number}",
                description="The export stops halfway through.",
                category="technical",
                priority="medium",
                tags=[tag],
            ),
            actor=SYSTEM,
        )


def test_loading_a_page_renders_and_receives_only_that_page(browser, app_server: AppServer) -> None:
    tag = f"more{uuid.uuid4().hex[:8]}"
    _tickets(app_server, tag, PAGE * (PRESSES + 1) + 5)
    email = f"agent-{uuid.uuid4().hex[:6]}@example.com"
    add_user(app_server, email, "agent")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    context.add_cookies([session_cookie(app_server, email)])
    context.add_init_script(COUNT_ROW_RENDERS)
    page = context.new_page()
    received: list[int] = []
    page.on(
        "websocket",
        lambda socket: socket.on("framereceived", lambda frame: received.append(len(frame))),
    )
    page.goto(f"{app_server.base_url}/?tag={tag}")
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(PAGE)
    load_more = page.locator("#load-more")

    renders, sent = [], []
    for press in range(1, PRESSES + 1):
        page.evaluate("window.__rowRenders = 0")
        received.clear()
        load_more.click()
        expect(rows).to_have_count(PAGE * (press + 1))
        expect(page.get_by_test_id("shown-text")).to_contain_text(
            f"Showing {PAGE * (press + 1)} of"
        )
        expect(load_more).to_be_enabled()
        renders.append(page.evaluate("window.__rowRenders"))
        sent.append(sum(received))

    # Each press renders the rows it added, not the ones shown before (was 75 at the first
    # press and all 175 rows again, twice, at the sixth).
    assert all(count <= PAGE + 5 for count in renders), renders
    assert renders[-1] <= renders[0] + 5, renders
    # And the server sends that page only, not every row shown.
    assert sent[-1] <= sent[0] * 1.1 + 500, sent
    context.close()
