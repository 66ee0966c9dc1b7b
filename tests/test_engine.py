"""The pure engine, table-driven: a small menu set, two handlers, a 60-septet page, inputs in, pages out.

Menu texts here are not catalog keys: the catalog shows an unknown key as itself, so the YAML holds the words.
Navigation words and notices are the real English catalog's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from menus.catalog import Catalog
from menus.engine import Call, Caller, Engine, NeedsHandler, Reply, Turn
from menus.gsm import fits_ussd
from menus.model import MenuSet
from menus.state import RESUME_OFFER, EngineState

BUDGET = 60
CALLER = Caller("s1", "+254711000001", "63902", "*384*55#", "en", "p1")
#: An alert too long to sit under its title on one 60-septet page.
ALERT = "Floods expected in the coast region tonight: move to higher ground now and keep your phone charged"
MENUS = {
    "welcome.yaml": """
menu: welcome
start: main
screens:
  main:
    text: "Main menu"
    options:
      - {label: "Fruits", goto: fruits}
      - {label: "Alerts", goto: alerts}
      - {label: "Full", goto: full}
      - {label: "Ask", goto: ask}
  fruits:
    text: "Pick a fruit"
    options:
      - {label: "Apple", goto: main}
      - {label: "Pear", goto: main}
  full:
    text: "A menu title that fills the page"
    options:
      - {label: "First choice", goto: main}
      - {label: "Second choice", goto: main}
  alerts:
    handler: alerts
  ask:
    text: "Type a number"
    input: {pattern: '[0-9*]{1,5}', error: "Digits only, please.", action: echo, save_as: number}
""",
    "language.yaml": """
menu: language
start: choose
screens:
  choose:
    text: language.title
    options:
      - {label: language.en, action: set_language, params: {lang: en}}
      - {label: language.fr, action: set_language, params: {lang: fr}}
""",
}


OTHER_ALERTS = ["Heat wave on Monday", "Road closed at the border post"]
#: The invalid-choice notice, whole and short (the English catalog's).
NOTICES = ("Sorry, that is not an option.", "Not an option.")


def alerts(call: Call[None]) -> Reply:
    return Reply(text="Latest alerts:", lines=[ALERT, *OTHER_ALERTS])


def echo(call: Call[None]) -> Reply:
    return Reply(text=f"You typed {call.input}", end=True)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine[None]:
    folder = tmp_path_factory.mktemp("menus")
    for name, text in MENUS.items():
        (folder / name).write_text(text)
    return Engine(MenuSet.load(Path(folder)), Catalog.load(), {"alerts": alerts, "echo": echo}, BUDGET,
                  services=None)


def walk(engine: Engine[None], *inputs: str) -> list[Turn]:
    """The turns a caller who knows their language gets: the first screen, then one per input."""
    turns = [engine.start(CALLER, known_language=True)]
    for value in inputs:
        turns.append(engine.feed(CALLER, turns[-1].state, value))
    return turns


def lines(turn: Turn) -> list[str]:
    return turn.text.split("\n")


@pytest.mark.parametrize(
    ("inputs", "shown", "hidden"),
    [
        # navigation
        ((), ["Main menu", "1 Fruits", "4 Ask"], ["0 Back"]),
        (("1",), ["Pick a fruit", "1 Apple", "0 Back"], ["00 Home"]),
        (("1", "0"), ["Main menu"], []),
        (("1", "00"), ["Main menu"], ["0 Back"]),
        # a data screen: the first page holds the title and the start of the long first alert, never the title alone
        (("2",), ["Latest alerts:", "Floods expected", "98 More", "0 Back"], []),
        (("2", "98"), ["0 Back"], ["Latest alerts:"]),
        (("2", "98", "0"), ["Latest alerts:", "Floods expected"], ["Sorry"]),
        # unexpected input: the same page under a notice, which takes the title's place when the page is full
        (("9",), ["Sorry, that is not an option.", "1 Fruits", "4 Ask"], ["98 More"]),
        (("1", "x"), ["Sorry, that is not an option.", "1 Apple", "2 Pear", "0 Back"], []),
        # 98 on a last page stays on that page (under the notice), it does not jump to page 1
        (("2", "98", "98", "98", "98"), ["0 Back"], ["Latest alerts:", "98 More"]),
        # a notice on page 2 and then 0: page 1 again, without the stale notice
        (("2", "98", "x", "0"), ["Latest alerts:", "Floods expected"], ["Sorry", "Not an option"]),
        # an input screen: a wrong answer re-asks under the screen's own notice, a right one reaches the handler
        (("4", "abc"), ["Digits only, please."], []),
        (("4", "42"), ["You typed 42"], ["0 Back"]),
        (("4", "abc", "42"), ["You typed 42"], []),
    ],
)
def test_pages_shown(engine: Engine[None], inputs: tuple[str, ...], shown: list[str], hidden: list[str]) -> None:
    turn = walk(engine, *inputs)[-1]
    assert fits_ussd(turn.text, BUDGET), turn.text
    for text in shown:
        assert text in turn.text, (text, turn.text)
    for text in hidden:
        assert text not in turn.text, (text, turn.text)


def test_a_notice_never_pushes_an_option_off_the_page(engine: Engine[None]) -> None:
    """A menu whose title and options fill the page: the notice takes the title's place."""
    plain = walk(engine, "3")[-1]
    noticed = walk(engine, "3", "7")[-1]
    assert "98 More" not in plain.text
    options = [line for line in lines(plain) if line[0].isdigit()]
    assert options == ["1 First choice", "2 Second choice", "0 Back"]
    assert [line for line in lines(noticed) if line[0].isdigit()] == options
    assert lines(noticed)[0] in NOTICES
    assert fits_ussd(noticed.text, BUDGET)


def test_98_and_0_after_a_notice_move_through_the_same_pages(engine: Engine[None]) -> None:
    without = [turn.text for turn in walk(engine, "2", "98", "0")]
    with_notice = [turn.text for turn in walk(engine, "2", "x", "98", "0")]
    noticed, plain = with_notice[2].split("\n"), without[1].split("\n")
    assert noticed[0] in NOTICES and noticed[1:] == plain[1:]  # the notice took the title's place
    assert with_notice[3:] == without[2:]


def test_every_word_of_a_data_screen_is_shown_once(engine: Engine[None]) -> None:
    turns = walk(engine, "2")
    while "98 More" in turns[-1].text:
        turns.append(engine.feed(CALLER, turns[-1].state, "98"))
    nav = {"98 More", "0 Back"}
    words = " ".join(line for turn in turns[1:] for line in lines(turn) if line not in nav).split()
    assert words == " ".join(["Latest alerts:", ALERT, *OTHER_ALERTS]).split()
    assert len(turns) > 3


def test_several_inputs_at_once_stop_at_an_end(engine: Engine[None]) -> None:
    turn = engine.feed(CALLER, walk(engine)[0].state, "4*12*9")
    assert turn.end and turn.text == "You typed 12*9"  # free input takes the rest whole, * included


def test_pure_steps_move_between_menus_and_stop_before_a_handler(engine: Engine[None]) -> None:
    state = walk(engine)[0].state
    assert "Pick a fruit" in engine.feed(CALLER, EngineState.loads(state.dumps()), "1", pure=True).text
    with pytest.raises(NeedsHandler):
        engine.feed(CALLER, EngineState.loads(state.dumps()), "2", pure=True)


def test_the_state_survives_its_text_form(engine: Engine[None]) -> None:
    state = walk(engine, "2", "98")[-1].state
    again = EngineState.loads(state.dumps())
    assert again == state
    assert engine.feed(CALLER, again, "0").text == walk(engine, "2", "98", "0")[-1].text


def test_resume_offers_the_dropped_screen_and_restores_it(engine: Engine[None]) -> None:
    dropped = walk(engine, "2", "98")[-1]
    assert engine.resumable(dropped.state)
    offer = engine.start(CALLER, known_language=True, resume_point=EngineState.loads(dropped.state.dumps()))
    assert offer.state.screen == RESUME_OFFER and engine.offers_resume(offer.state)
    resumed = engine.feed(CALLER, offer.state, "1")
    assert resumed.text == dropped.text and resumed.state.resume_point is None
    restarted = engine.feed(CALLER, engine.start(CALLER, known_language=True, resume_point=dropped.state).state, "2")
    assert restarted.text.startswith("Main menu") and restarted.state.resume_point is None


@pytest.mark.parametrize(
    ("inputs", "resumable"),
    [((), False), (("1",), True), (("4",), True), (("2",), True)],
)
def test_what_may_be_resumed(engine: Engine[None], inputs: tuple[str, ...], resumable: bool) -> None:
    assert engine.resumable(walk(engine, *inputs)[-1].state) is resumable


def test_a_new_caller_chooses_a_language_first(engine: Engine[None]) -> None:
    first = engine.start(CALLER, known_language=False)
    assert first.state.screen == "language.choose"
    chosen = engine.feed(CALLER, first.state, "2")
    assert chosen.state.lang == "fr" and chosen.text.startswith("Main menu")


#: What a caller may send where a menu expects an option (\u0661 is the Arabic-Indic digit one).
JUNK = ("", " ", "99", "-1", "1.5", "5", "x" * 500, "*", "**", "\x00", "1 2", "\u0661")
#: Where the caller stands, and the notices that may head the page asked again.
SCREENS = {"root": ((), NOTICES), "submenu": (("1",), NOTICES), "data": (("2",), NOTICES),
           "input": (("4",), ("Digits only, please.",))}


@pytest.mark.parametrize(
    ("where", "junk"),
    [(where, junk) for where in SCREENS for junk in JUNK
     # the input screen takes 1-5 digits and stars: those are answers there, not junk
     if not (where == "input" and re.fullmatch(r"[0-9*]{1,5}", junk))],
    ids=lambda value: repr(value)[:12],
)
def test_unexpected_input_is_asked_again_on_the_same_page(engine: Engine[None], where: str, junk: str) -> None:
    """CONTRACT §2: letters, options out of range and 500 characters of junk get a polite re-prompt: the same
    page's options under a notice, within the budget, never an END."""
    screen, notices = SCREENS[where]
    before = walk(engine, *screen)[-1]
    after = engine.feed(CALLER, EngineState.loads(before.state.dumps()), junk)
    assert not after.end, after.text
    assert fits_ussd(after.text, BUDGET), after.text
    assert lines(after)[0] in notices, after.text
    kept = [line for line in lines(before) if line[:1].isdigit()]
    assert [line for line in lines(after) if line[:1].isdigit()] == kept, (before.text, after.text)
    assert after.state.screen == before.state.screen


@pytest.mark.parametrize("joined", ["1*0", "1*2", "1*00", "2*98", "2*98*0", "3*9", "9*1", "2*98*98*98", "4*0"])
def test_inputs_sent_at_once_reach_the_screen_of_inputs_sent_one_by_one(engine: Engine[None], joined: str) -> None:
    """A dial string with inputs (``*384*55*1*2#`` sends ``1*2``) ends where the same inputs, one a request,
    would: the same page and the same state."""
    at_once = engine.feed(CALLER, walk(engine)[0].state, joined)
    one_by_one = walk(engine, *joined.split("*"))[-1]
    assert (at_once.text, at_once.end) == (one_by_one.text, one_by_one.end)
    assert at_once.state == one_by_one.state
