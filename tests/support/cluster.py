"""The `scale` profile of docker-compose.yml without Docker: two app instances, Redis, HAProxy.

Each instance is the container's start command (`python -m ticket_app serve`) on its own
loopback port, with its own web folder, the UI state in one Redis database claimed for this run
and `REFLEX_API_URL` pointing at the load balancer. HAProxy (Debian's) runs the configuration
text that docker-compose.yml gives its `lb` service, with the addresses swapped for loopback
ports through the environment variables that configuration reads.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import yaml

from tests.support.server import Server, free_port, reflex_env, start_server
from ticket_app.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
STARTUP_SECONDS = 180
# Redis databases 1-15 are handed out to concurrent runs through claim keys in database 0.
CLAIM_KEY = "triage-desk:scale-test:claim:{db}"
CLAIM_SECONDS = 900


def haproxy_binary() -> str | None:
    """Path of the haproxy executable (Debian installs it in /usr/sbin), or None."""
    found = shutil.which("haproxy")
    if found:
        return found
    debian = Path("/usr/sbin/haproxy")
    return str(debian) if debian.exists() else None


def compose_haproxy_config() -> str:
    """The HAProxy configuration of the compose file's `lb` service, as HAProxy reads it.

    Compose turns `$$` into `$` before the container sees the text; so does this.
    """
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return services["lb"]["environment"]["DESK_HAPROXY_CFG"].replace("$$", "$")


def redis_reachable(url: str) -> bool:
    """Whether a Redis server answers PING at `url` within two seconds."""
    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@contextmanager
def claimed_redis_database(server_url: str) -> Iterator[str]:
    """URL of an empty Redis database (1-15) no other run holds; emptied and released after.

    Raises RuntimeError when every database is taken or holds keys.
    """
    owner = uuid.uuid4().hex
    with redis.Redis.from_url(server_url, db=0) as registry:
        for db in range(1, 16):
            key = CLAIM_KEY.format(db=db)
            if not registry.set(key, owner, nx=True, ex=CLAIM_SECONDS):
                continue
            with redis.Redis.from_url(server_url, db=db) as database:
                if database.dbsize() == 0:
                    break
            registry.delete(key)
        else:
            raise RuntimeError(f"no empty Redis database among 1-15 at {server_url}")
        try:
            yield f"{server_url.rstrip('/')}/{db}"
        finally:
            with redis.Redis.from_url(server_url, db=db) as database:
                database.flushdb()
            if registry.get(key) == owner.encode():
                registry.delete(key)


@dataclass
class Instance:
    """One running app server: its HAProxy server name, port and process group."""

    name: str
    port: int
    server: Server

    @property
    def url(self) -> str:
        """Its own address, bypassing the load balancer."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM the server's process group (as `docker stop` would) and wait for it."""
        self.server.stop(timeout=20)


@dataclass(frozen=True)
class Cluster:
    """The running set-up: the load balancer's address and the instances behind it."""

    url: str
    instances: dict[str, Instance]


@contextmanager
def cluster(
    work: Path, database_url: str, redis_url: str, extra_env: Mapping[str, str]
) -> Iterator[Cluster]:
    """Start app1 and app2 (serve), then HAProxy in front of them; stop all after the block.

    `extra_env` is added to the servers' environment (e.g. SETUP_TOKEN). Raises RuntimeError
    with the tail of a log when a server does not come up within STARTUP_SECONDS.
    """
    lb_port = free_port()
    lb_url = f"http://127.0.0.1:{lb_port}"
    base_env = reflex_env(
        GEMINI_API_KEY="",
        REFLEX_REDIS_URL=redis_url,
        REFLEX_API_URL=lb_url,
        GRANIAN_WORKERS="1",
        **extra_env,
    )
    instances: dict[str, Instance] = {}
    balancer: Server | None = None
    try:
        # One after the other: each start copies the project's reflex.lock/ files into its web
        # folder and back (truncate, then write). Two starts at once once read them half-written
        # and wrote back an empty bun.lock and package.json, which every later start refused.
        for name in ("app1", "app2"):
            port = free_port()
            env = {
                **base_env,
                "REFLEX_WEB_WORKDIR": str(work / f"web-{name}"),
                "REFLEX_STATES_WORKDIR": str(work / f"states-{name}"),
            }
            command = [sys.executable, "-m", "ticket_app", "serve", "--port", str(port)]
            command += ["--host", "127.0.0.1", "--database-url", database_url]
            server = start_server(command, log=work / f"{name}.log", env=env)
            instance = instances[name] = Instance(name, port, server)
            server.wait_until_up(f"{instance.url}/ping", STARTUP_SECONDS)

        config = work / "haproxy.cfg"
        config.write_text(compose_haproxy_config())
        lb_env = {
            **os.environ,
            "DESK_LB_BIND": f"127.0.0.1:{lb_port}",
            "DESK_APP1": f"127.0.0.1:{instances['app1'].port}",
            "DESK_APP2": f"127.0.0.1:{instances['app2'].port}",
        }
        balancer = start_server(
            [haproxy_binary() or "haproxy", "-db", "-f", str(config)],
            log=work / "haproxy.log",
            env=lb_env,
        )
        for name in instances:
            wait_until_served_by(lb_url, name, balancer)
        yield Cluster(url=lb_url, instances=instances)
    finally:
        if balancer is not None:
            balancer.stop(timeout=20)
        for instance in instances.values():
            instance.stop()


def served_by(lb_url: str, pinned_to: str) -> str:
    """Which instance answers GET /ping through the balancer for a browser pinned to one."""
    request = urllib.request.Request(f"{lb_url}/ping", headers={"Cookie": f"DESK_LB={pinned_to}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers.get("X-Desk-Server", "")


def wait_until_served_by(lb_url: str, name: str, balancer: Server, seconds: float = 30) -> None:
    """Wait until HAProxy routes a browser pinned to `name` to `name` (its check passed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if balancer.process.poll() is not None:
            raise RuntimeError(f"haproxy exited:\n{balancer.log_tail()}")
        try:
            if served_by(lb_url, name) == name:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"haproxy does not route to {name}:\n{balancer.log_tail()}")
