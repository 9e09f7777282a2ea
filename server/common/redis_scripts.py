"""Lua scripts run on the cache's Redis in one round trip, on a connection kept per process and thread.

Used on the hot paths of every signed call (nonce claim, S03) and of every sandbox query (challenge, N03): Redis runs
a script atomically, so a check-and-set needs no lock and no second round trip. The connection is configured like
the cache's own pool but used directly: redis-py's client and pipeline machinery (retries, callbacks, pool
bookkeeping) cost more than the round trip itself (bench/auth.py, bench/sandbox.py --profile).
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError


class KeptConnectionScript:
    """One Lua script; ``run(backend, keys, args)`` answers what the script returns."""

    def __init__(self, source: str, name: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.name = name
        self._local = threading.local()

    def _connection(self, backend: RedisCache) -> Any:
        pool = backend._cache._get_connection_pool(write=True)
        local = self._local
        if getattr(local, "pool", None) is not pool or local.pid != os.getpid():  # forked, or another cache
            local.connection = pool.connection_class(**pool.connection_kwargs)
            local.pool, local.pid = pool, os.getpid()
        return local.connection

    def run(self, backend: RedisCache, keys: list[str], args: list[Any]) -> Any:
        return self.send(backend, keys, args).result()

    def send(self, backend: RedisCache, keys: list[str], args: list[Any]) -> PendingScript:
        """Send the script and return at once; ``result()`` reads the answer. Work done in between overlaps the
        round trip (the signed-call path verifies the signature meanwhile). If the answer is never read, the next
        call finds the connection out of step and starts afresh."""
        connection = self._connection(backend)
        if connection._sock is not None:  # closed by the server while idle (EOF pending), or out of step: afresh
            try:
                stale = connection.can_read(timeout=0)
            except RedisConnectionError:
                stale = True
            if stale:
                connection.disconnect()
        for attempt in range(2):
            try:
                # Sending fails on a connection the server has closed: then nothing ran, and one retry is safe.
                connection.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
                break
            except RedisConnectionError:
                connection.disconnect()
                if attempt:
                    raise
        return PendingScript(self, connection, keys, args)


class PendingScript:
    """A script sent and not yet answered."""

    def __init__(self, script: KeptConnectionScript, connection: Any, keys: list[str], args: list[Any]):
        self._script, self._connection, self._keys, self._args = script, connection, keys, args

    def result(self) -> Any:
        connection = self._connection
        try:
            return connection.read_response()
        except NoScriptError:  # a restarted or flushed Redis: load the script once, run again (nothing ran)
            try:
                connection.send_command("SCRIPT", "LOAD", self._script.source)
                connection.read_response()
                connection.send_command("EVALSHA", self._script.sha, len(self._keys), *self._keys, *self._args)
                return connection.read_response()
            except BaseException:
                connection.disconnect()
                raise
        except BaseException:
            connection.disconnect()  # the script may have run: never retried, the caller gets the error
            raise
