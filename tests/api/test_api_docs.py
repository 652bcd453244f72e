"""The API documents itself offline: OpenAPI lists every endpoint, /api/docs has local assets."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ticket_app.api.app import create_api


def test_openapi_lists_every_endpoint() -> None:
    spec = TestClient(create_api()).get("/api/openapi.json").json()
    operations = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert operations >= {
        ("/api/tickets/", "get"),
        ("/api/tickets/", "post"),
        ("/api/tickets/{ticket_id}/", "get"),
        ("/api/tickets/{ticket_id}/", "patch"),
        ("/api/tickets/stats/", "get"),
        ("/api/tickets/classify/", "post"),
        ("/api/tickets/export/", "get"),
    }
    create = spec["paths"]["/api/tickets/"]["post"]
    assert "201" in create["responses"]
    assert {"TicketRead", "TicketCreate", "TicketStats"} <= set(spec["components"]["schemas"])


def test_docs_page_loads_its_assets_from_this_server() -> None:
    client = TestClient(create_api())
    page = client.get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", page.text)
    assert assets, page.text
    for asset in assets:
        assert asset.startswith("/api/"), asset
        assert client.get(asset).status_code == 200
