"""A tab reconnecting after its worker went away keeps its token (ticket_app.ui.failover).

Against a real Redis (a claimed database, as the two-instance test): Reflex's own token manager
hands a new, empty token to a tab whose previous worker left its socket record behind, which is
what emptied the failover form of issue 13; FailoverTokenManager keeps the token when that
worker is gone or lets go within its wait, and still separates a duplicated tab.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import time
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis
from reflex.utils.token_manager import RedisTokenManager, SocketRecord

from tests.support.cluster import claimed_redis_database, redis_reachable
from ticket_app.ui.failover import FailoverTokenManager, alive_channel

pytestmark = pytest.mark.scale

TOKEN = "5f0c1d9e-0000-4000-8000-000000000013"
RECORD_KEY = f"token_manager_socket_record_{TOKEN}"
OLD_WORKER = "worker-that-served-the-tab"


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
    if not redis_reachable(server):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {server}; CI must provide it")
        pytest.skip(f"Redis is not reachable at {server}")
    with claimed_redis_database(server) as url:
        yield url


async def leave_record(client: Redis) -> None:
    """The socket record the tab's previous worker stored and did not delete."""
    record = SocketRecord(instance_id=OLD_WORKER, sid="old-socket")
    await client.set(RECORD_KEY, pickle.dumps(record), ex=3600)


async def reconnect(manager: RedisTokenManager) -> tuple[str | None, float]:
    """The tab's socket arrives at `manager`: (new token or None, seconds it took)."""
    started = time.monotonic()
    try:
        return await manager.link_token_to_sid(TOKEN, "new-socket"), time.monotonic() - started
    finally:
        await manager.close()


def test_reflex_alone_gives_the_tab_a_new_token(redis_url: str) -> None:
    async def scenario() -> str | None:
        client = Redis.from_url(redis_url)
        await leave_record(client)
        new_token, _ = await reconnect(RedisTokenManager(client))
        return new_token

    assert asyncio.run(scenario()) not in (None, TOKEN)


def test_worker_gone_tab_keeps_its_token(redis_url: str) -> None:
    async def scenario() -> tuple[str | None, float, SocketRecord]:
        client = Redis.from_url(redis_url)
        await leave_record(client)
        manager = FailoverTokenManager(client)
        instance = manager.instance_id
        new_token, seconds = await reconnect(manager)
        async with Redis.from_url(redis_url) as check:
            stored = pickle.loads(await check.get(RECORD_KEY))
        assert stored.instance_id == instance
        return new_token, seconds, stored

    new_token, seconds, stored = asyncio.run(scenario())
    assert new_token is None
    assert stored.sid == "new-socket"
    assert seconds < 1.0


def test_live_worker_letting_go_keeps_the_token(redis_url: str) -> None:
    async def scenario() -> tuple[str | None, float]:
        client = Redis.from_url(redis_url)
        await leave_record(client)
        async with Redis.from_url(redis_url) as old_worker, old_worker.pubsub() as alive:
            await alive.subscribe(alive_channel(OLD_WORKER))

            async def let_go() -> None:
                await asyncio.sleep(0.4)
                await old_worker.delete(RECORD_KEY)

            releasing = asyncio.create_task(let_go())
            result = await reconnect(FailoverTokenManager(client))
            await releasing
            return result

    new_token, seconds = asyncio.run(scenario())
    assert new_token is None
    assert 0.3 < seconds < 2.0


def test_live_worker_keeping_its_socket_means_a_duplicated_tab(redis_url: str) -> None:
    async def scenario() -> tuple[str | None, float]:
        client = Redis.from_url(redis_url)
        await leave_record(client)
        async with Redis.from_url(redis_url) as old_worker, old_worker.pubsub() as alive:
            await alive.subscribe(alive_channel(OLD_WORKER))
            manager = FailoverTokenManager(client)
            manager.release_wait_seconds = 0.5
            return await reconnect(manager)

    new_token, seconds = asyncio.run(scenario())
    assert new_token not in (None, TOKEN)
    assert 0.4 < seconds < 2.0
