"""How often one number may use the checks: what keeps anyone from enumerating references, licences or flags.

``CHECK`` (by SMS or USSD, one counter for both) answers a number at most ``CHECK_PER_NUMBER_PER_HOUR`` times in
an hour that opens with its first check (a fixed window per number: no burst at a clock hour). The attempt is
counted *before* the lookup, so a check over the limit learns nothing, and an SMS source that loops cannot make
the gateway look anything up. The arithmetic that makes this enough for references is in :mod:`outbox.refs`.

Caller flags are limited the same way, per caller per day (``CHECK_FLAGS_PER_DAY``): together with the agency's
review they keep one caller from branding an honest number.
"""

from __future__ import annotations

from redis import Redis

from . import keys

HOUR_S = 3600
DAY_S = 24 * 3600


def _take(connection: Redis, key: str, window_s: int) -> int:
    pipe = connection.pipeline(transaction=True)
    pipe.set(key, 0, nx=True, ex=window_s)
    pipe.incr(key)
    return int(pipe.execute()[1])


def take_check(connection: Redis, caller: str) -> int:
    """Count one check for ``caller`` (a pseudonym); returns which one of its window this is. It may go ahead
    when that is at most the hourly limit; the limit + 1 is the first refused (the one told so)."""
    return _take(connection, keys.check_count(caller), HOUR_S)


def take_flag(connection: Redis, caller: str, per_day: int) -> bool:
    """Count one flag for ``caller``; False when the day's are used up (nothing else then happens)."""
    return _take(connection, keys.flag_count(caller), DAY_S) <= per_day
