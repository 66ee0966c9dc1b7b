"""Every Redis key the sessions package writes, built in one place.

All keys of one caller share the hash tag ``{<caller pseudonym>}`` (:meth:`identity.keyring.Keyring.pseudonym`),
so the Lua scripts that load and save a session touch one Redis Cluster slot. Keys never hold a phone number.
"""

SESSION_PREFIX = "ussd:"
CALLER_PREFIX = "caller:"


def state_key(caller: str, session_id: str) -> str:
    return f"{SESSION_PREFIX}{{{caller}}}:{session_id}"


def lock_key(caller: str, session_id: str) -> str:
    return f"{SESSION_PREFIX}{{{caller}}}:{session_id}:lock"


def resume_key(caller: str) -> str:
    return f"{CALLER_PREFIX}{{{caller}}}:resume"


def profile_key(caller: str) -> str:
    return f"{CALLER_PREFIX}{{{caller}}}:profile"
