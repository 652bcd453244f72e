"""The container files: docker-compose.yml validates, and Dockerfile and compose agree.

The `scale` profile's instances must be the `app` service with only the Redis and load-balancer
settings changed, and its HAProxy configuration must pass `haproxy -c` (tests/scale runs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from ipaddress import ip_address

import pytest
import yaml

from tests.support.cluster import compose_haproxy_config, haproxy_binary
from ticket_app.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.deploy

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
    assert sorted(compose("config", "--volumes").stdout.split()) == ["pgdata", "storage"]
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


SCALE_SERVICES = {"app-1", "app-2", "redis", "lb"}
# What the scale instances change in `app`'s environment; everything else must be the same.
# The scale pair also hands background jobs to the `worker` service, queued in Redis.
SCALE_ONLY = {
    "REFLEX_REDIS_URL",
    "REFLEX_API_URL",
    "GRANIAN_WORKERS",
    "TRUSTED_PROXIES",
    "WORKER_EMBEDDED",
    "TASK_QUEUE_URL",
}


def compose_services() -> dict[str, dict]:
    """docker-compose.yml's services as YAML reads them (anchors and merge keys applied)."""
    return yaml.safe_load(COMPOSE.read_text())["services"]


@needs_compose
def test_compose_scale_profile_runs_two_instances_behind_haproxy() -> None:
    result = compose("--profile", "scale", "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) >= SCALE_SERVICES | {"db", "app"}
    for name in ("app-1", "app-2"):
        environment = services[name]["environment"]
        assert environment["REFLEX_REDIS_URL"] == "redis://redis:6379/0"
        assert environment["REFLEX_API_URL"] == "http://localhost:8080"
        assert not services[name].get("ports")
        # lb's X-Forwarded-For is believed: lb is on the compose default network.
        assert environment["TRUSTED_PROXIES"] == "172.16.0.0/12"
    assert services["app"]["environment"]["TRUSTED_PROXIES"] == ""  # trusts nobody
    assert services["app-2"]["depends_on"]["app-1"]["condition"] == "service_healthy"
    assert [(p["published"], p["target"]) for p in services["lb"]["ports"]] == [(8080, 8080)]
    assert services["lb"]["environment"]["DESK_LB_BIND"] == ":8080"


def test_compose_scale_instances_are_the_app_service_with_redis() -> None:
    services = compose_services()
    app = services["app"]
    for name in ("app-1", "app-2"):
        instance = services[name]
        assert instance["profiles"] == ["scale"]
        assert (instance["image"], instance["command"]) == (app["image"], app["command"])
        environment = instance["environment"]
        assert set(environment) == set(app["environment"]) | SCALE_ONLY
        for key, value in app["environment"].items():
            if key not in SCALE_ONLY:
                assert environment[key] == value, key
    assert "scale" in services["redis"]["profiles"]
    lb = services["lb"]
    assert lb["profiles"] == ["scale"] and lb["image"].startswith("haproxy:")
    assert lb["environment"]["DESK_APP1"] == "app-1:3000"
    assert lb["environment"]["DESK_APP2"] == "app-2:3000"


@needs_compose
def test_compose_trusted_proxies_come_from_the_environment() -> None:
    env = {"TRUSTED_PROXIES": "10.1.0.7", "SCALE_TRUSTED_PROXIES": "192.168.96.0/20"}
    services = yaml.safe_load(compose("--profile", "scale", "config", env=env).stdout)["services"]
    assert services["app"]["environment"]["TRUSTED_PROXIES"] == "10.1.0.7"
    for name in ("app-1", "app-2"):
        assert services[name]["environment"]["TRUSTED_PROXIES"] == "192.168.96.0/20"


def test_compose_scale_instances_trust_the_balancer_that_forwards_for_clients() -> None:
    services = compose_services()
    default = re.fullmatch(
        r"\$\{SCALE_TRUSTED_PROXIES:-(.*)\}", services["app-1"]["environment"]["TRUSTED_PROXIES"]
    )
    assert default is not None
    # The setting reads it, and it covers Docker's default address pools for compose networks.
    trusted = Settings(_env_file=None, trusted_proxies=default.group(1)).trusted_proxies
    for lb_address in ("172.17.0.2", "172.18.0.5", "172.31.255.254"):
        assert any(ip_address(lb_address) in network for network in trusted)
    config_lines = [line.strip() for line in compose_haproxy_config().splitlines()]
    assert "option forwardfor" in config_lines
    assert services["app"]["environment"]["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-}"


@pytest.mark.skipif(haproxy_binary() is None, reason="haproxy is not installed (apt-get install)")
def test_compose_haproxy_config_is_valid(tmp_path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(compose_haproxy_config())
    environment = compose_services()["lb"]["environment"]
    names = ("DESK_LB_BIND", "DESK_APP1", "DESK_APP2")
    result = subprocess.run(
        [str(haproxy_binary()), "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **{name: environment[name] for name in names}},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "could not resolve address 'app-1'" in result.stderr  # it read DESK_APP1
