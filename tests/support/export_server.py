"""An API app whose exports lose their database connection part-way, for a real HTTP server.

`granian --factory tests.support.export_server:create` with DATABASE_URL set to the test
database and EXPORT_FAULT_AFTER_ROWS to the number of rows read before the connection is dropped.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from tests.support.faults import dropping_after
from ticket_app.api.app import create_api
from ticket_app.services import exporter


def create() -> FastAPI:
    """The product's API app, with the fault installed."""
    exporter.iter_snapshot = dropping_after(int(os.environ["EXPORT_FAULT_AFTER_ROWS"]))
    return create_api()
