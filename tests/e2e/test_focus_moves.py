"""The console's focus move, run in Chromium: it waits for its element, keeps it, never steals.

The script a state handler sends (`focus_when_rendered_script`) is evaluated on a plain page
whose elements appear, are replaced or are focused by the test, as a React render would do.
"""

from __future__ import annotations

import pytest

from ticket_app.ui.state.focus import focus_when_rendered_script

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PAGE = '<main><input id="search" aria-label="Search"><div id="slot"></div></main>'
ADD_HEADING = (
    "() => { const h = document.createElement('h2'); h.id = 'heading'; h.tabIndex = -1; "
    "h.textContent = 'Ticket'; document.getElementById('slot').replaceChildren(h); }"
)


@pytest.fixture
def blank(browser) -> object:
    """A tab showing PAGE (no app server needed)."""
    tab = browser.new_page()
    tab.set_content(PAGE)
    yield tab
    tab.close()


def test_an_element_rendered_seconds_later_still_gets_focus(blank) -> None:
    """A first render slower than half a second (a loaded machine) no longer loses the move."""
    blank.evaluate(focus_when_rendered_script("heading"))
    blank.wait_for_timeout(2_000)
    blank.evaluate(ADD_HEADING)
    expect(blank.locator("#heading")).to_be_focused()


def test_an_element_replaced_right_after_focusing_keeps_focus(blank) -> None:
    """A re-render that swaps the focused node for a new one moves focus to the new node."""
    blank.evaluate(ADD_HEADING)
    blank.evaluate(focus_when_rendered_script("heading"))
    expect(blank.locator("#heading")).to_be_focused()
    blank.evaluate(ADD_HEADING)
    expect(blank.locator("#heading")).to_be_focused()


def test_focus_the_user_moved_meanwhile_is_not_taken(blank) -> None:
    """While the move waits, the user clicks into the search box: it stays there."""
    blank.evaluate(focus_when_rendered_script("heading"))
    blank.locator("#search").click()
    blank.evaluate(ADD_HEADING)
    blank.wait_for_timeout(300)
    expect(blank.locator("#search")).to_be_focused()


def test_a_newer_move_wins_over_a_waiting_one(blank) -> None:
    """Two moves in a row (two key presses): the element of the second one ends up focused."""
    blank.evaluate(focus_when_rendered_script("heading"))
    blank.evaluate(focus_when_rendered_script("search"))
    blank.evaluate(ADD_HEADING)
    blank.wait_for_timeout(300)
    expect(blank.locator("#search")).to_be_focused()


def test_unless_focused_leaves_focus_where_it_is(blank) -> None:
    """With `unless_focused`, a move made while the user is in a field does nothing."""
    blank.locator("#search").focus()
    blank.evaluate(focus_when_rendered_script("heading", unless_focused=True))
    blank.evaluate(ADD_HEADING)
    blank.wait_for_timeout(300)
    expect(blank.locator("#search")).to_be_focused()
