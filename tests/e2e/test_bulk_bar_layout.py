"""Selecting a row must not move the rows under the mouse: the bulk bar floats."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import AppServer
from tests.support.seed import post_json

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=15_000)


def test_ticking_a_row_leaves_the_next_row_where_it_was(page, app_server: AppServer) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(3):
        post_json(
            f"{app_server.base_url}/api/tickets/",
            {"title": f"{tag} bulk {n}", "description": "Layout", "category": "general"},
            token=app_server.token,
        )
    page.goto(f"{app_server.base_url}/?q={tag}")
    boxes = page.get_by_test_id("row-checkbox")
    expect(boxes).to_have_count(3)
    before = boxes.nth(1).bounding_box()
    boxes.nth(0).click()
    expect(page.get_by_test_id("bulk-bar")).to_be_visible()
    assert boxes.nth(1).bounding_box() == before
    boxes.nth(1).click()  # where the mouse was aimed: the second row, not "Apply"
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
