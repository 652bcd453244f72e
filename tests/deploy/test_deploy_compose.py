"""The container files: docker-compose.yml validates, and Dockerfile and compose agree."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from ticket_app.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (apt-get install docker-compose; .ci/run does it)",
)


def dockerfile_instruction(name: str) -> list[str]:
    """The JSON-array argument of the Dockerfile's last `name` instruction (e.g. CMD)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    matches = re.findall(rf"^{name}\s+(?:--\S+\s+)*(?:CMD\s+)?(\[.*\])\s*$", text, re.MULTILINE)
    assert matches, f"no {name} instruction in exec form"
    return json.loads(matches[-1])


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


@needs_compose
def test_compose_file_is_valid() -> None:
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_services_volume_and_health() -> None:
    assert set(compose("config", "--services").stdout.split()) >= {"db", "app"}
    assert "redis" in compose("--profile", "redis", "config", "--services").stdout.split()
    assert compose("config", "--volumes").stdout.split() == ["pgdata"]
    resolved = compose("config").stdout
    assert "image: postgres:16" in resolved
    assert "pg_isready" in resolved
    assert "condition: service_healthy" in resolved
    assert "postgresql+psycopg://triage:" in resolved


@needs_compose
def test_compose_takes_gemini_settings_from_the_environment() -> None:
    resolved = compose(
        "config", env={"GEMINI_API_KEY": "key-from-env-123", "GEMINI_MODEL": "gemini-test"}
    ).stdout
    assert "GEMINI_API_KEY: key-from-env-123" in resolved
    assert "GEMINI_MODEL: gemini-test" in resolved


def test_compose_command_is_the_image_command() -> None:
    compose_command = re.search(r"^\s+command:\s+(\[.*\])\s*$", COMPOSE.read_text(), re.MULTILINE)
    assert compose_command is not None
    assert json.loads(compose_command.group(1)) == dockerfile_instruction("CMD")
    assert dockerfile_instruction("CMD") == ["python", "-m", "ticket_app", "serve"]


def test_image_runs_as_non_root_with_a_healthcheck() -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert dockerfile_instruction("HEALTHCHECK")[0] == "python"
    assert "EXPOSE 3000" in text


def test_env_template_holds_no_secret() -> None:
    template = (PROJECT_ROOT / ".env.example").read_text()
    values = dict(
        line.split("=", 1) for line in template.splitlines() if line and not line.startswith("#")
    )
    assert values["GEMINI_API_KEY"] == ""
    assert "GEMINI_MODEL" in values
