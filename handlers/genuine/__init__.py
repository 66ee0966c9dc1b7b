"""Genuine or fake? (CONTRACT §6, issue #11): let a migrant check a message, a number or a recruiter.

Modules, one job each:

* :mod:`.keys`: every Redis key of this package;
* :mod:`.limits`: how often a number may check (``CHECK_PER_NUMBER_PER_HOUR``) and flag numbers;
* :mod:`.answers`: what a check says, in the caller's language (a broadcast's ref, a licence, a number);
* :mod:`.keyword`: the ``CHECK`` keyword of inbound SMS (the gateway routes it here before the outbox's keywords);
* :mod:`.registers`: the agencies' registers of licensed recruiters and flagged numbers (``gateway/api/registry.py``);
* :mod:`.flags`: callers' flags of numbers, filed as reports and counted once an agency upholds them;
* :mod:`.menu`: the USSD and voice screens of ``menus/data/check.yaml``.

Broadcast references are minted and remembered by :mod:`outbox.refs` (the arithmetic of guessing one is there).
"""
