"""Every Redis key the sessions package writes, built in one place.

Keys of one USSD session share the hash tag ``{<session id>}`` so that, on Redis Cluster, the state and its
lock live in one slot. Caller keys use the caller's pseudonym (see :mod:`sessions.identity`), never the number.
"""

SESSION_PREFIX = "ussd:"
CALLER_PREFIX = "caller:"
PEPPER_KEY = "gateway:pepper"


def state_key(session_id: str) -> str:
    return f"{SESSION_PREFIX}{{{session_id}}}:state"


def lock_key(session_id: str) -> str:
    return f"{SESSION_PREFIX}{{{session_id}}}:lock"


def resume_key(caller: str) -> str:
    return f"{CALLER_PREFIX}{{{caller}}}:resume"


def profile_key(caller: str) -> str:
    return f"{CALLER_PREFIX}{{{caller}}}:profile"
