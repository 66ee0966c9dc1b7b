"""Every Redis key the sessions package writes, built in one place.

All keys of one caller share the hash tag ``{<caller pseudonym>}`` (:meth:`identity.keyring.Keyring.pseudonym`),
so the Lua scripts that load and save a session touch one Redis Cluster slot. Keys never hold a phone number, and
a session's keys are built from its reference (:meth:`sessions.store.SessionStore.ref`: hex digits only), never from
AT's ``sessionId`` as sent.
"""

SESSION_PREFIX = "ussd:"
CALLER_PREFIX = "caller:"


def state_key(caller: str, session: str) -> str:
    return f"{SESSION_PREFIX}{{{caller}}}:{session}"


def lock_key(caller: str, session: str) -> str:
    return f"{SESSION_PREFIX}{{{caller}}}:{session}:lock"


def resume_key(caller: str) -> str:
    """The state of the caller's last dropped call, while they may resume it."""
    return f"{CALLER_PREFIX}{{{caller}}}:resume"


def profile_key(caller: str) -> str:
    return f"{CALLER_PREFIX}{{{caller}}}:profile"
