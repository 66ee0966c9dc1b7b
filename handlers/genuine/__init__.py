"""Genuine or fake? (CONTRACT §6, issue #11): let a migrant check a message, a number or a recruiter.

Modules, one job each:

* :mod:`.keys`: every Redis key of this package;
* :mod:`.limits`: how often a number may check (``CHECK_PER_NUMBER_PER_HOUR``) and flag numbers;
* :mod:`.answers`: what a check says, in the caller's language (a broadcast's ref, a licence, a number);
* :mod:`.keyword`: the ``CHECK`` keyword of inbound SMS (the gateway routes it here before the outbox's keywords).

Broadcast references are minted and remembered by :mod:`outbox.refs` (the arithmetic of guessing one is there).
"""
