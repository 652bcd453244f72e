"""The OpenAPI schema says exactly what the API accepts and returns (issue 10): text rules and
lengths, non-null PATCH fields, every error status with its body model, the 400 for bodies that
cannot be decoded. Schemathesis then holds the app to it (test_api_schemathesis.py)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from ticket_app.api.app import create_api
from ticket_app.schemas import CONTENT_PATTERN, TicketCreate, TicketUpdate
from ticket_app.settings import get_settings

SPEC = create_api().openapi()
ERROR_STATUSES = {"400", "401", "403", "404", "405", "413", "422", "429", "503"}
SESSION_STATUSES = {"400", "405", "413", "422", "503"}


def component(name: str) -> dict[str, Any]:
    return SPEC["components"]["schemas"][name]


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
    ]


def test_text_fields_state_their_rules() -> None:
    create = component("TicketCreate")["properties"]
    assert create["title"]["maxLength"] == 200
    assert create["description"]["maxLength"] == get_settings().max_description_chars
    for field in ("title", "description"):
        assert create[field]["minLength"] == 1
        assert create[field]["pattern"] == CONTENT_PATTERN
    assert create["external_id"]["anyOf"][0]["maxLength"] == 200
    assert component("ClassifyRequest")["properties"]["description"]["pattern"] == CONTENT_PATTERN


def test_patch_fields_are_never_null_except_the_ones_that_clear() -> None:
    properties = component("TicketUpdate")["properties"]
    required = {"title", "description", "category", "priority", "status"}
    clearable = {"assignee_id", "requester_name", "requester_email"}
    # `tags` replaces the set; null, like absent, leaves it (the empty list clears it).
    assert set(properties) == required | clearable | {"tags"}
    assert {"type": "null"} in properties["tags"]["anyOf"]
    for name in required:
        schema = properties[name]
        assert "null" not in str(schema) and "default" not in schema, (name, schema)
    for name in clearable:
        assert {"type": "null"} in properties[name]["anyOf"], name
    assert component("TicketUpdate").get("required", []) == []


def test_every_operation_documents_every_error_with_its_body() -> None:
    for method, path, operation in operations():
        responses = operation["responses"]
        missing = (
            ERROR_STATUSES - set(responses) - ({"401"} if path == "/api/auth/login" else set())
        )
        if path.startswith("/api/tickets"):
            assert not missing, (method, path, missing)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema["$ref"].rsplit("/", 1)[-1] in {
                    "ErrorBody",
                    "ConflictBody",
                    "EditConflictBody",
                }, (
                    method,
                    path,
                    status,
                )
        assert "HTTPValidationError" not in str(responses), (method, path)


def test_error_bodies_are_detail_and_errors() -> None:
    body = component("ErrorBody")
    assert set(body["required"]) == {"detail", "errors"}
    assert set(component("ErrorItem")["required"]) == {"field", "message", "type"}
    conflict = component("ConflictBody")
    assert "ticket" in conflict["required"]
    create = SPEC["paths"]["/api/tickets/"]["post"]
    assert create["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ConflictBody"
    )


def test_the_undecodable_body_400_is_documented_where_bodies_are_read() -> None:
    for _method, path, operation in operations():
        if "requestBody" in operation:
            assert "cannot be decoded" in operation["responses"]["400"]["description"], path


def test_create_documents_the_idempotency_key_header() -> None:
    create = SPEC["paths"]["/api/tickets/"]["post"]
    (header,) = [p for p in create["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and not header["required"]
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]


def test_list_filters_are_documented_and_the_cursor_may_be_empty() -> None:
    parameters = {p["name"]: p for p in SPEC["paths"]["/api/tickets/"]["get"]["parameters"]}
    assert {"search", "q", "created_since", "updated_since", "limit", "cursor"} <= set(parameters)
    for name in ("created_since", "updated_since"):
        assert parameters[name]["schema"]["anyOf"][0]["format"] == "date-time"
    assert "minLength" not in str(parameters["cursor"]["schema"])
    assert "empty" in parameters["cursor"]["description"]


def test_sign_in_and_setup_document_their_bodies() -> None:
    for path in ("/api/auth/login", "/api/auth/setup"):
        content = SPEC["paths"][path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
        assert "password" in content["application/json"]["schema"]["required"]


SAMPLES = [
    "x",
    " x ",
    "",
    " ",
    "\t\n",
    "\u200b",
    "\ufeff\u200b",
    "\u00ad",
    "\U000e0020\U000e0041",
    "\U0001d173",
    "\U0001d173a",
    "a\x00",
    "\x00",
    "\u3000\u2028",
    "Ünïcödé",
    "\x1c\x1d",
    "\u180e",
    "\u0600",
    "😀",
]


def accepted(text: str) -> bool:
    try:
        TicketCreate(title="t", description=text)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("text", SAMPLES)
def test_the_content_pattern_is_the_validator_in_python_and_rust(text: str) -> None:
    """Python's `re` (what schemathesis generates from) and a Rust/ECMAScript-style engine (what
    it validates with) read the pattern alike, and both agree with the API's own validator."""
    python = re.search(CONTENT_PATTERN, text) is not None
    rust = jsonschema_rs.validator_for({"type": "string", "pattern": CONTENT_PATTERN}).is_valid(
        text
    )
    assert python == rust == accepted(text), (python, rust, accepted(text))
    update_ok = True
    try:
        TicketUpdate(description=text)
    except ValidationError:
        update_ok = False
    assert update_ok == accepted(text)
