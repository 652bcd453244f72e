"""A browser tab keeps its UI state when the app instance it talked to goes away (issue 13).

With the UI state in Redis (REFLEX_REDIS_URL) a tab's state is stored under its client token,
so a tab whose instance stops can carry on from another instance behind the load balancer.
Reflex (0.10.1) gets in the way: its token manager records in Redis which worker holds each
token's socket (`token_manager_socket_record_<token>`), and a socket arriving with a token that
has a record anywhere is taken for a duplicated browser tab and handed a new, empty token
(`RedisTokenManager.link_token_to_sid`). A tab reconnects a few milliseconds after its instance
closes the socket, before that instance's shutdown deletes the record, or never if the worker
dies without cleaning up (granian's worker can panic on shutdown). The tab then lost everything
it had typed (issue 13: a half-filled new-ticket form came back empty on the other instance).

`FailoverTokenManager` tells a stale record from a live one before Reflex decides. Every backend
worker keeps a Redis subscription to its own liveness channel for as long as it runs; Redis
drops it the moment the worker stops or dies. A record whose worker has no subscriber left is
stale: it is deleted and the tab keeps its token. A record of a live worker is waited on for up
to RELEASE_WAIT_SECONDS, the time a stopping worker takes to close its sockets and let go;
only a record that outlasts that is a duplicated tab, which gets Reflex's new token as before.

Installed by `KeepTabStateOnFailover` (rxconfig.py's plugins) in every backend worker that uses
Redis; without Redis (one worker, state in memory) nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from reflex.utils.token_manager import RedisTokenManager, SocketRecord

if TYPE_CHECKING:
    from reflex.app import App

logger = logging.getLogger(__name__)

# A stopping worker closes its sockets, then deletes their records or drops its liveness
# subscription; on a busy two-core machine that took up to a few hundred milliseconds.
RELEASE_WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05
ALIVE_CHANNEL = "triage-desk:reflex-worker-alive:{instance_id}"
# Deletes the record only while it is still the one found stale (a newer owner's stays).
_DELETE_IF_UNCHANGED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def alive_channel(instance_id: str) -> str:
    """The Redis channel a backend worker (Reflex token-manager instance) subscribes to."""
    return ALIVE_CHANNEL.format(instance_id=instance_id)


class FailoverTokenManager(RedisTokenManager):
    """Reflex's Redis token manager that lets a tab keep its token when its worker is gone."""

    release_wait_seconds: float = RELEASE_WAIT_SECONDS

    async def link_token_to_sid(self, token: str, sid: str) -> str | None:
        """Link a connecting socket to its tab's token (see the module docstring).

        Returns the new token when the token belongs to another live tab, else None.
        """
        record = self.token_to_socket.get(token)
        if record is None or record.sid != sid:
            try:
                await self.release_stale_record(token)
            except RedisError as exc:  # Reflex's own check still runs (and logs its errors)
                logger.warning("socket record of a tab not checked: %s", exc)
        return await super().link_token_to_sid(token, sid)

    async def worker_alive(self, instance_id: str) -> bool:
        """Whether the backend worker `instance_id` still runs (holds its liveness channel)."""
        channel = alive_channel(instance_id)
        counts = await self.redis.pubsub_numsub(channel)
        return any(count > 0 for _name, count in counts)

    async def release_stale_record(self, token: str) -> None:
        """Delete `token`'s socket record if the worker holding it is gone.

        A record of another worker that is still running is polled until it goes (that worker
        let the socket go) or the worker stops, for at most `release_wait_seconds`. A record of
        this worker is left to Reflex, which knows this worker's own sockets.
        """
        key = self._get_redis_key(token)
        deadline = time.monotonic() + self.release_wait_seconds
        while True:
            stored = await self.redis.get(key)
            if stored is None:
                return
            record = _socket_record(stored)
            if record is not None and record.instance_id == self.instance_id:
                return
            if record is None or not await self.worker_alive(record.instance_id):
                await self.redis.eval(_DELETE_IF_UNCHANGED, 1, key, stored)
                logger.info("tab %s reconnected; its previous worker is gone", token[:8])
                return
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(POLL_SECONDS)


def _socket_record(stored: bytes) -> SocketRecord | None:
    """The socket record Reflex stored (pickled), or None if it cannot be read."""
    try:
        record = pickle.loads(stored)  # written by Reflex's token manager, in our Redis
    except Exception:  # a record from another Reflex version: treat it as stale
        return None
    return record if isinstance(record, SocketRecord) else None


async def hold_alive_channel(app: App) -> None:
    """Lifespan task: subscribe to this worker's liveness channel until the worker stops.

    Reflex gives the worker its identity in its own lifespan task, which starts first; should
    it change, the subscription follows. A lost Redis connection is retried every second. A
    stopping worker cancels this task first thing in its shutdown, which unsubscribes.
    """
    manager = _failover_manager(app)
    if manager is None:
        return
    while True:
        try:
            async with manager.redis.pubsub() as pubsub:
                instance_id = manager.instance_id
                await pubsub.subscribe(alive_channel(instance_id))
                while manager.instance_id == instance_id:  # Reflex may hand out a new one
                    await pubsub.get_message(timeout=1.0)
            continue
        except RedisError as exc:
            logger.warning("liveness channel lost, subscribing again: %s", exc)
        await asyncio.sleep(1.0)


def _failover_manager(app: App) -> FailoverTokenManager | None:
    namespace = app.event_namespace
    manager: Any = getattr(namespace, "_token_manager", None)
    return manager if isinstance(manager, FailoverTokenManager) else None


def install(app: App) -> bool:
    """Give `app`'s event socket a `FailoverTokenManager`; `hold_alive_channel` runs with it.

    Only when Reflex chose its Redis token manager (so once: the second call finds ours).
    Returns whether it was installed now.
    """
    namespace = app.event_namespace
    current: Any = getattr(namespace, "_token_manager", None)
    if namespace is None or type(current) is not RedisTokenManager:
        return False
    namespace._token_manager = FailoverTokenManager(current.redis)
    app.register_lifespan_task(hold_alive_channel)
    return True
