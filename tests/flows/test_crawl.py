"""The crawler: walks every reachable screen for callers in Kenya, the Philippines, the UAE (a Kenyan roaming) and
Bangladesh, in all five languages, as Africa's Talking would drive it.

Each path is dialled as a new session whose first request carries every input (``*384*55*2*1#`` style), so a
walk costs one request per screen. Every answer must start ``CON ``/``END ``, fit one page of the default budget,
and each caller must reach at least 25 distinct screens.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import deque

import pytest
from flask.testing import FlaskClient
from redis import Redis

from identity.keyring import Keyring
from menus.gsm import fits_ussd
from sessions.keys import resume_key
from tests.conftest import TEST_SECRET
from tests.flows.conftest import CALLERS, handset

BUDGET = 160
MAX_DEPTH = 6
#: Free-text answers the crawler gives a screen that asks for input (a PIN screen, the report's text).
SAMPLES = ("1234", "Market street, no pay")
_OPTION = re.compile(r"^(\d{1,2}) ", re.MULTILINE)
_REF = re.compile(r"\b[CR]-[0-9A-Z]{6}\b")
LANGUAGE_OPTIONS = {"en": "1", "fr": "2", "sw": "3", "ar": "4", "tl": "5"}


def _is_language_menu(body: str) -> bool:
    return "Kiswahili" in body or "Tagalog" in body


def _post(client: FlaskClient, number: str, network: str, text: str) -> tuple[str, float]:
    started = time.perf_counter()
    response = client.post("/ussd", data={"sessionId": "crawl-" + secrets.token_hex(8), "serviceCode": "*384*55#",
                                          "phoneNumber": number, "networkCode": network, "text": text})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return response.get_data(as_text=True), elapsed


def crawl(client: FlaskClient, redis: Redis, where: str) -> tuple[set[str], float]:
    number, network = CALLERS[where]
    resume = resume_key(Keyring(TEST_SECRET).pseudonym(number))
    seen: set[str] = set()
    slowest = 0.0
    queue: deque[tuple[str, ...]] = deque([()])
    visited_paths = 0
    while queue:
        path = queue.popleft()
        redis.delete(resume)  # each walk starts fresh, not with a resume offer
        body, elapsed = _post(client, number, network, "*".join(path))
        visited_paths += 1
        slowest = max(slowest, elapsed)
        assert body.startswith(("CON ", "END ")), (path, body)
        assert fits_ussd(body[4:], BUDGET), (path, body)
        screen = _REF.sub("REF", body)
        if screen in seen:
            continue
        seen.add(screen)
        if body.startswith("END ") or len(path) >= MAX_DEPTH or _is_language_menu(body):
            continue  # the language menu leads to the same screens in another language: crawled separately
        options = _OPTION.findall(body[4:])
        nexts = [o for o in options if o not in ("0", "00")]
        if not options or (options and set(options) <= {"0", "00", "98"}) and "98" not in options:
            nexts.extend(SAMPLES)  # a screen that asks for input
        for value in nexts:
            queue.append((*path, value))
    return seen, slowest


@pytest.mark.parametrize("where", sorted(CALLERS))
def test_every_screen_fits_for_every_caller_and_language(client: FlaskClient, redis: Redis, accounts: None,
                                                        where: str) -> None:
    for lang, option in LANGUAGE_OPTIONS.items():
        handset(client, where, lang_option=option)
        screens, slowest = crawl(client, redis, where)
        assert len(screens) >= 25, (where, lang, len(screens), sorted(screens))
