"""The USSD service's guarantees that need a handler with side effects: replay and concurrency act once,
secrets never reach Redis, a failing handler becomes an apology."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from redis import Redis

from gateway.redis_client import connect
from gateway.ussd import UssdService
from menus.catalog import Catalog
from menus.engine import Call, Effect, Engine, Reply
from menus.model import MenuSet
from sessions.store import SessionStore
from tests.privacy import dump, leaks, number_forms

MENUS = Path(__file__).parent / "data" / "menus"


class Recorder:
    def __init__(self) -> None:
        self.calls = 0
        self.effects: list[Effect] = []
        self.lock = threading.Lock()
        self.pins: list[str] = []
        self.notes: list[str] = []

    def count(self, call: Call) -> Reply:
        with self.lock:
            self.calls += 1
        return Reply(text="Counted", effects=[Effect("sms", {"n": self.calls})], end=True)

    def check_pin(self, call: Call) -> Reply:
        self.pins.append(call.input or "")
        return Reply(text="PIN checked", end=True)

    def take_note(self, call: Call) -> Reply:
        self.notes.append(call.input or "")
        return Reply(text="Noted", end=True)

    def explode(self, call: Call) -> Reply:
        raise RuntimeError("handler bug")

    def sink(self, effects, caller) -> None:
        with self.lock:
            self.effects.extend(effects)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(redis: Redis, redis_url: str, recorder: Recorder, keyring) -> UssdService:
    connection = connect(redis_url)
    catalog = Catalog.load()
    handlers = {name: getattr(recorder, name) for name in ("count", "check_pin", "take_note", "explode")}
    engine = Engine(MenuSet.load(MENUS), catalog, handlers, 160, services=None)
    sessions = SessionStore(connection, ttl=60, resume_ttl=600, key=keyring.key("session digests"))
    return UssdService(engine, sessions, catalog, pseudonym=keyring.pseudonym, effects=recorder.sink)


def form(text: str, session: str = "S1", phone: str = "+254711000001") -> dict[str, str]:
    return {"sessionId": session, "phoneNumber": phone, "networkCode": "63902", "serviceCode": "*1#", "text": text}


def test_replay_repeats_no_side_effect(service, recorder):
    service.answer(form(""))
    service.answer(form("1"))  # language: English
    first = service.answer(form("1*1"))
    assert first == "END Counted"
    assert service.answer(form("1*1")) == first
    assert recorder.calls == 1 and len(recorder.effects) == 1


def test_concurrent_duplicates_are_serialised(service, recorder):
    service.answer(form(""))
    service.answer(form("1"))
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(service.answer(form("1*1")))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["END Counted"] * 8
    assert recorder.calls == 1 and len(recorder.effects) == 1


def test_secret_and_free_text_inputs_never_reach_redis(service, recorder, redis):
    service.answer(form("", session="A"))
    service.answer(form("1", session="A"))
    service.answer(form("1*2", session="A"))
    assert service.answer(form("1*2*4821", session="A")) == "END PIN checked"
    service.answer(form("", session="B"))
    service.answer(form("3", session="B"))
    assert service.answer(form("3*my boss keeps my passport", session="B")) == "END Noted"
    assert recorder.pins == ["4821"] and recorder.notes == ["my boss keeps my passport"]
    assert leaks(dump(redis), {"4821", "my boss keeps my passport", "passport", *number_forms("+254711000001")}) == []


def test_free_text_with_a_star_is_taken_whole(service, recorder):
    service.answer(form("", session="C"))
    service.answer(form("1", session="C"))
    service.answer(form("1*3", session="C"))
    assert service.answer(form("1*3*room 4*floor 2", session="C")) == "END Noted"
    assert recorder.notes == ["room 4*floor 2"]


def test_input_longer_than_allowed_is_reprompted(service):
    service.answer(form("", session="D"))
    service.answer(form("1", session="D"))
    service.answer(form("1*3", session="D"))
    assert service.answer(form("1*3*" + "x" * 41, session="D")).startswith("CON Sorry, that was not valid.")


def test_a_failing_handler_becomes_an_apology_and_frees_the_session(service):
    service.answer(form("", session="E"))
    service.answer(form("1", session="E"))
    assert service.answer(form("1*4", session="E")).startswith("END Sorry, the service is not available")
    # the lock was released and nothing was saved: the phone's next try is served at once
    assert service.answer(form("1*1", session="E")) == "END Counted"
