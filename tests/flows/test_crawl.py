"""The crawler: walks every reachable screen for callers in Kenya, the Philippines, the UAE (a Kenyan roaming) and
Bangladesh, in all five languages, at the contract's default budget (160 septets: 80 UTF-16 units for Arabic) and a
tight operator's (120: 60 units), as Africa's Talking would drive it.

Each path is dialled as a new session whose first request carries every input (``*384*55*2*1#`` style), so a
walk costs one request per screen. Every answer must start ``CON ``/``END ``, fit one page of the budget, and each
caller must reach at least 25 distinct screens. CONTRACT §2's first-page rule holds for every menu, the ones
handlers draw included (report categories, the report's SMS yes/no, alert countries and topics, the remittance
screens, call-back topics): a page reached with ``98`` never shows an option, and no page is only a title or a
notice; a wrong answer on a menu shows the same options again.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import deque
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from redis import Redis

from gateway.app import create_app
from gateway.config import Settings
from identity.keyring import Keyring
from menus.catalog import Catalog
from menus.gsm import fits_ussd
from sessions.keys import resume_key
from tests.conftest import TEST_SECRET
from tests.flows.conftest import CALLERS, handset

BUDGETS = (160, 120)
MAX_DEPTH = 6
#: Free-text answers the crawler gives a screen that asks for input (a PIN screen, the report's text).
SAMPLES = ("1234", "Market street, no pay")
_OPTION = re.compile(r"^(\d{1,2}) ", re.MULTILINE)
_NAV = re.compile(r"^(98|0|00) \S")
_REF = re.compile(r"\b[CR]-[0-9A-Z]{6}\b")
LANGUAGE_OPTIONS = {"en": "1", "fr": "2", "sw": "3", "ar": "4", "tl": "5"}
#: An answer no screen offers: the menu comes back under a notice.
WRONG = "77"


#: Notes that explain a list's lines: they ride on a line of the list, never fill a page of their own (#8).
NOTE_KEYS = ("money.costs.demo", "money.costs.source", "money.costs.demo.short", "money.costs.source.short",
             "money.costs.demo.tiny", "money.costs.source.tiny", "help.unverified")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _notes(date: str) -> list[str]:
    catalog = _catalog()
    return [catalog.text(lang, key, date=date) for lang in LANGUAGE_OPTIONS for key in NOTE_KEYS]


def _catalog(cache: dict[str, Catalog] = {}) -> Catalog:  # noqa: B006 - loaded once for the whole crawl
    if "c" not in cache:
        cache["c"] = Catalog.load()
    return cache["c"]


def only_a_note(screen: str) -> bool:
    """Whether every content line of a page is (a piece of) a note: a page that explains nothing it shows."""
    lines = [line.strip() for line in content_of(screen) if line.strip()]
    found = _DATE.search(screen)
    notes = _notes(found.group(0) if found else "")
    return bool(lines) and all(any(line in note for note in notes) for line in lines)


def _is_language_menu(body: str) -> bool:
    return "Kiswahili" in body or "Tagalog" in body


def _post(client: FlaskClient, number: str, network: str, text: str) -> tuple[str, float]:
    started = time.perf_counter()
    response = client.post("/ussd", data={"sessionId": "crawl-" + secrets.token_hex(8), "serviceCode": "*384*55#",
                                          "phoneNumber": number, "networkCode": network, "text": text})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return response.get_data(as_text=True), elapsed


def options_of(screen: str) -> list[str]:
    """The option lines of a page (navigation lines aside)."""
    return [line for line in screen.split("\n") if _OPTION.match(line) and not _NAV.match(line)]


def content_of(screen: str) -> list[str]:
    """The lines of a page that are not navigation."""
    return [line for line in screen.split("\n") if not _NAV.match(line)]


def page_faults(path: tuple[str, ...], body: str, budget: int) -> list[str]:
    """What is wrong with one answer, by the contract's page rules."""
    screen = body[4:]
    out = []
    if not body.startswith(("CON ", "END ")):
        out.append(f"{path}: no CON/END prefix: {body!r}")
    if not fits_ussd(screen, budget):
        out.append(f"{path}: over the page budget {budget}: {screen!r}")
    if path and path[-1] == "98" and options_of(screen):
        out.append(f"{path}: options on a page reached with 98 (a menu's options belong on its first page): {screen!r}")
    more = any(line.startswith("98 ") for line in screen.split("\n"))
    if more and body.startswith("END "):
        out.append(f"{path}: an END screen longer than a page (its 98 cannot be answered): {screen!r}")
    if more and len(content_of(screen)) < 2 and not (path and path[-1] == "98"):
        out.append(f"{path}: a first page with nothing but its title or a notice: {screen!r}")
    if only_a_note(screen):
        out.append(f"{path}: a page with nothing but a note: {screen!r}")
    if more and not content_of(screen):
        out.append(f"{path}: a page with nothing but navigation: {screen!r}")
    return out


def crawl(client: FlaskClient, redis: Redis, where: str, budget: int) -> tuple[set[str], list[str]]:
    number, network = CALLERS[where]
    resume = resume_key(Keyring(TEST_SECRET).pseudonym(number))
    seen: set[str] = set()
    faults: list[str] = []
    queue: deque[tuple[str, ...]] = deque([()])
    while queue:
        path = queue.popleft()
        redis.delete(resume)  # each walk starts fresh, not with a resume offer
        body, _ = _post(client, number, network, "*".join(path))
        faults.extend(page_faults(path, body, budget))
        screen = _REF.sub("REF", body)
        if screen in seen:
            continue
        seen.add(screen)
        if body.startswith("END ") or len(path) >= MAX_DEPTH or _is_language_menu(body):
            continue  # the language menu leads to the same screens in another language: crawled separately
        options = options_of(body[4:])
        if options and path[-1:] != ("98",) and not set(path) & set(SAMPLES):  # a free input takes what follows
            redis.delete(resume)
            again, _ = _post(client, number, network, "*".join((*path, WRONG)))
            if options_of(again[4:]) != options:
                faults.append(f"{path}: a wrong answer moved the options: {body!r} became {again!r}")
        nexts = [line.split(" ", 1)[0] for line in options]
        if "98" in _OPTION.findall(body[4:]):
            nexts.append("98")
        if not _OPTION.findall(body[4:]) or (not options and "98" not in nexts):
            nexts.extend(SAMPLES)  # a screen that asks for input
        for value in nexts:
            queue.append((*path, value))
    return seen, faults


#: A long alert in each language, so "latest alerts" is a data screen of several pages for every caller.
ALERT = {
    "en": "Flood warning: roads to the coast are closed tonight; move to higher ground and follow the police.",
    "fr": "Alerte crue : les routes vers la côte sont fermées cette nuit ; montez en hauteur et suivez la police.",
    "sw": "Onyo la mafuriko: barabara za pwani zimefungwa usiku huu; hamia sehemu za juu na fuata polisi.",
    "ar": "تحذير من الفيضانات: الطرق إلى الساحل مغلقة الليلة؛ انتقل إلى مكان مرتفع واتبع تعليمات الشرطة.",
    "tl": "Babala sa baha: sarado ang mga daan papunta sa baybayin ngayong gabi; lumikas sa mataas na lugar.",
}


@pytest.fixture
def alerts_sent(redis: Redis) -> None:
    """Two public alerts to each caller's country (a subscriber there makes the audience)."""
    from outbox import broadcasts, subscribers
    from outbox.broadcasts import BroadcastRequest
    from outbox.config import OutboxConfig
    from tests.conftest import TEST_KEYRING

    for n, country in enumerate(("KE", "PH", "AE", "BD")):
        subscribers.subscribe(redis, TEST_KEYRING, f"+25471100{n:04d}", country=country, language="en",
                              topics=["safety"], source="api")
        for _ in range(2):
            broadcasts.create(redis, "agency", BroadcastRequest(message=dict(ALERT), countries=(country,)),
                              OutboxConfig(keyring=TEST_KEYRING))


@pytest.fixture(params=BUDGETS, ids=lambda budget: f"budget{budget}")
def budget_client(request: pytest.FixtureRequest, settings: Settings) -> tuple[int, FlaskClient]:
    budget: int = request.param
    return budget, create_app(replace(settings, page_budget=budget)).test_client()


@pytest.mark.parametrize("where", sorted(CALLERS))
def test_every_screen_fits_for_every_caller_and_language(budget_client: tuple[int, FlaskClient], redis: Redis,
                                                        accounts: None, alerts_sent: None, where: str) -> None:
    budget, client = budget_client
    faults: list[str] = []
    for lang, option in LANGUAGE_OPTIONS.items():
        handset(client, where, lang_option=option)
        screens, found = crawl(client, redis, where, budget)
        assert len(screens) >= 25, (where, lang, len(screens), sorted(screens))
        faults += [f"{lang}: {fault}" for fault in found]
    assert not faults, "\n".join(faults[:40])


def test_the_page_rules_catch_a_menu_split_over_pages() -> None:
    """The crawler's own checks: an option behind 98 and a first page of only a title are faults."""
    assert page_faults(("1", "98"), "CON 3 Third option\n0 Back", 160)
    assert page_faults(("1",), "CON Latest alerts, Kenya:\n98 More\n0 Back", 160)
    assert not page_faults(("1",), "CON Latest alerts, Kenya:\n12/05 Floods tonight\n98 More\n0 Back", 160)
    assert not page_faults(("1", "98"), "CON 13/05 Roads closed\n0 Back", 160)
    note = _catalog().text("fr", "money.costs.demo", date="2025-01-31")
    assert page_faults(("5", "2", "98"), f"CON {note}\n0 Retour", 160)
    assert page_faults(("5", "2", "98"), f"CON {note.split(' ', 3)[-1]}\n0 Retour", 160)
    assert not page_faults(("5", "2", "98"), f"CON Kenya : 12,00 USD, mobile\n{note}\n0 Retour", 160)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_paging_a_data_screen_back_and_forth(budget_client: tuple[int, FlaskClient], alerts_sent: None,
                                             lang: str) -> None:
    """#8 item 2, on the real latest-alerts screen: its first page holds an alert, not only its title; 98 on the
    last page stays there; 0 after a re-prompt on page 2 shows page 1 without the stale notice."""
    budget, client = budget_client
    phone = handset(client, "KE", lang_option=LANGUAGE_OPTIONS[lang])
    first = phone.send("3", "4")
    assert len(content_of(first[4:])) >= 2 and "98 " in first, first
    pages = [first]
    while "\n98 " in pages[-1]:
        pages.append(phone.send("98"))
    last = pages[-1]
    assert len(pages) >= 2 and phone.send("98").endswith(last[4:])  # 98 on the last page: the same page
    notice = phone.send("x")  # a wrong answer on the last page: the same page (under a notice if it fits)
    assert content_of(notice[4:])[-1] == content_of(last[4:])[-1]
    back = phone.send("0")
    assert back == pages[-2]  # the page before, as it was: no stale notice
