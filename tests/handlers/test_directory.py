"""Helpline directory: the bundled data is sound and complete, and validate() catches what it must."""

import dataclasses
import datetime as dt

import pytest

from handlers import directory
from handlers.directory import (
    EMERGENCY_KINDS,
    HOTLINE_KINDS,
    emergency_contacts,
    home_contacts,
    international_offices,
    load_directory,
    validate,
)

ORIGINS = "KE UG TZ ET SO SD PH ID LK IN NP BD PK".split()
HOSTS = "AE SA QA KW OM BH JO LB MY SG TR DE FR GB IT US".split()
#: The bundled file, parsed once for the module (the gateway does the same at start).
BUNDLED = load_directory()


def test_bundled_directory_has_no_faults():
    assert validate() == []


# Somalia has no national emergency number that we could confirm (numbers differ by region): listed, unverified.
NO_VERIFIED_EMERGENCY = {"SO"}


@pytest.mark.parametrize("host", HOSTS + ORIGINS)
def test_every_country_has_a_verified_emergency_number(host):
    contacts = emergency_contacts(host, BUNDLED)
    urgent = [c for c in contacts if c.kind in EMERGENCY_KINDS and c.dialable]
    assert urgent, f"{host} has no emergency number"
    if host not in NO_VERIFIED_EMERGENCY:
        assert any(c.verified for c in urgent), f"{host} has no verified emergency number"


@pytest.mark.parametrize(
    ("host", "kind", "phone"),
    [
        ("AE", "police", "999"),
        ("AE", "ambulance", "998"),
        ("SA", "emergency", "911"),
        ("SA", "ambulance", "997"),
        ("QA", "emergency", "999"),
        ("KW", "emergency", "112"),
        ("OM", "emergency", "9999"),
        ("BH", "emergency", "999"),
        ("JO", "emergency", "911"),
        ("LB", "police", "112"),
        ("LB", "ambulance", "140"),
        ("MY", "emergency", "999"),
        ("SG", "police", "999"),
        ("SG", "ambulance", "995"),
        ("TR", "emergency", "112"),
        ("DE", "police", "110"),
        ("DE", "emergency", "112"),
        ("FR", "emergency", "112"),
        ("GB", "emergency", "999"),
        ("IT", "emergency", "112"),
        ("US", "emergency", "911"),
        ("KE", "emergency", "999"),
        ("UG", "emergency", "999"),
        ("TZ", "emergency", "112"),
        ("ET", "police", "991"),
        ("PH", "emergency", "911"),
        ("ID", "emergency", "112"),
        ("LK", "police", "119"),
        ("IN", "emergency", "112"),
        ("NP", "police", "100"),
        ("BD", "emergency", "999"),
        ("PK", "ambulance", "1122"),
        # Migrant-worker, labour and anti-trafficking lines
        ("AE", "labour", "80060"),
        ("SA", "labour", "19911"),
        ("QA", "labour", "16008"),
        ("BH", "trafficking", "995"),
        ("SG", "migrant_support", "6536 2692"),
        ("GB", "trafficking", "08000 121 700"),
        ("US", "trafficking", "1-888-373-7888"),
    ],
)
def test_known_numbers(host, kind, phone):
    assert any(c.kind == kind and c.phone == phone for c in emergency_contacts(host, BUNDLED))


def test_emergency_services_come_before_hotlines():
    order = EMERGENCY_KINDS + HOTLINE_KINDS
    for host in HOSTS + ORIGINS:
        ranks = [order.index(c.kind) for c in emergency_contacts(host, BUNDLED)]
        assert ranks == sorted(ranks), host


def test_every_origin_has_a_home_contact_in_every_host():
    missing = [f"{origin} in {host}" for host in HOSTS for origin in ORIGINS
               if not home_contacts(origin, host, BUNDLED)]
    assert not missing, "no embassy or consulate listed for: " + ", ".join(missing)


def test_home_contacts_are_for_that_origin_and_host():
    for host in HOSTS:
        for origin in ORIGINS:
            for c in home_contacts(origin, host, BUNDLED):
                assert c.origin == origin
                assert c.country in (host, origin)  # a mission in the host, or a home-side line


def test_missions_come_before_home_side_lines():
    kinds = [c.kind for c in home_contacts("PH", "AE", BUNDLED)]
    assert kinds[:2] == ["embassy", "consulate"]
    assert kinds[-1] == "consular"
    assert home_contacts("PH", "AE", BUNDLED)[-1].country == "PH"


def test_at_home_only_home_side_lines():
    assert {c.country for c in home_contacts("PH", "PH", BUNDLED)} == {"PH"}
    assert {c.kind for c in home_contacts("KE", "KE", BUNDLED)} == {"consular"}
    assert home_contacts("BD", "BD", BUNDLED) == []


def test_kenyan_in_doha_gets_kenyas_embassy():
    (embassy,) = [c for c in home_contacts("KE", "QA", BUNDLED) if c.kind == "embassy"]
    assert embassy.city == "Doha"
    assert embassy.e164 == "+97444931870"
    assert embassy.verified is False


def test_contacts_without_a_number_say_why():
    for c in BUNDLED.all_contacts():
        if not c.dialable:
            assert c.note and "pending" in c.note, c


def test_international_offices():
    offices = international_offices("GB", BUNDLED)
    assert offices and all(c.kind == "iom" for c in offices)
    assert international_offices("KE", BUNDLED)[0].city == "Nairobi"


@pytest.mark.parametrize("host", ["", "XX", "ke", "Kenya"])
def test_unknown_host_gives_empty_lists(host):
    assert emergency_contacts(host, BUNDLED) == []
    assert international_offices(host, BUNDLED) == []
    assert home_contacts("BD", host, BUNDLED) == []  # no mission anywhere unknown, and no home-side line
    assert {c.country for c in home_contacts("KE", host, BUNDLED)} == {"KE"}  # Kenya's lines for its citizens


def test_contacts_are_frozen():
    contact = emergency_contacts("KE", BUNDLED)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        contact.phone = "000"


def test_every_entry_carries_provenance():
    for c in BUNDLED.all_contacts():
        assert c.source
        assert isinstance(c.checked, dt.date)
        assert isinstance(c.verified, bool)


BAD = """
hosts:
  KE:
    emergency:
      - {kind: police, phone: "999", checked: 2026-01-01, verified: true}
      - {kind: superhero, phone: "111", source: x, checked: 2026-01-01, verified: true}
      - {kind: police, phone: "99x", source: x, checked: 2026-01-01, verified: true}
      - {kind: emergency, phone: "112", source: x, checked: 2026-01-01, verified: true}
      - {kind: emergency, phone: "112", source: x, checked: 2026-01-01, verified: true}
      - {kind: fire, phone: "020 1234567", e164: "+254209999999", source: x, checked: 2026-01-01, verified: false}
      - {kind: ambulance, phone: "0711 000000", e164: "+971501234567", source: x, checked: 2026-01-01, verified: false}
      - {kind: ambulance, source: x, checked: 2026-01-01, verified: false}
      - {kind: police, phone: "998", source: x, checked: last week, verified: true}
      - {kind: police, phone: "997", source: x, checked: 2026-01-01, verified: yes please}
      - {kind: police, phone: "996", source: x, checked: 2026-01-01, verified: true, colour: blue}
      - {kind: police, phone: "995", source: x, checked: 2026-01-01, verified: true, checked_by: "  "}
      - {kind: police, phone: "994", source: x, checked: 2026-01-01, verified: false, abroad: maybe}
    missions:
      UG:
        - {kind: embassy, name: Embassy of Uganda, source: x, checked: 2026-01-01, verified: true}
  kenya:
    emergency: []
"""


def test_validate_reports_faults(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    faults = "\n".join(validate(load_directory(path)))
    for expected in [
        "missing source",
        "unknown kind 'superhero'",
        "malformed phone '99x'",
        "duplicate number '112'",
        "does not match local number '020 1234567'",
        "belongs to AE, not KE",
        "KE ambulance: needs a phone",
        "malformed checked date 'last week'",
        "verified must be true or false",
        "unknown field(s) colour",
        "KE/UG embassy Embassy of Uganda: verified but has no phone",
        "KE police: verified but checked_by does not say who checked it",
        "checked_by must name who checked the entry",
        "abroad must be true or false",
        "'kenya' is not an ISO 3166-1 alpha-2 code",
    ]:
        assert expected in faults


def test_not_a_directory_raises(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(directory.DirectoryError, match="hosts"):
        load_directory(path)


def test_every_verified_entry_says_who_checked_it():
    unchecked = [c for c in BUNDLED.all_contacts() if c.verified and not c.checked_by]
    assert unchecked == []


def test_a_home_short_code_is_dialable_only_at_home():
    """The Philippine 1348 hotline answers only inside the Philippines: a Filipino in the UAE must not get it."""
    (line,) = [c for c in home_contacts("PH", "PH", BUNDLED) if c.phone == "1348"]
    assert line.reachable_from("PH") and line.number_from("PH") == "1348"
    assert not line.reachable_from("AE") and line.number_from("AE") is None
    assert all(c.reachable_from("AE") for c in home_contacts("PH", "AE", BUNDLED) if c.phone and c.country == "AE")


def test_an_international_number_is_dialled_in_its_international_form_from_abroad():
    contact = directory.Contact(kind="embassy", country="AE", source="x", checked=dt.date(2026, 1, 1),
                                verified=False, phone="02 639 0006", e164="+97126390006")
    assert contact.number_from("AE") == "02 639 0006"
    assert contact.number_from("KE") == "+97126390006"
    assert dataclasses.replace(contact, abroad=False).number_from("KE") is None


def test_every_number_is_valid_for_its_country_in_libphonenumber():
    """A full number must be a valid number of its country; a short code one libphonenumber knows there, or an
    entry marked short_code (a national hotline its metadata lacks), which is then never dialable from abroad."""
    import phonenumbers
    from phonenumbers import shortnumberinfo

    for c in BUNDLED.all_contacts():
        if c.phone is None:
            continue
        parsed = phonenumbers.parse(c.phone, c.country)
        full = phonenumbers.is_valid_number_for_region(parsed, c.country)
        short = shortnumberinfo.is_valid_short_number_for_region(parsed, c.country)
        assert full or short or c.short_code, (c.country, c.kind, c.phone)
        if c.short_code:
            assert not (full or short), (c.country, c.phone)
            assert not c.abroad or (c.e164 and c.e164[1:] == "".join(ch for ch in c.phone if ch.isdigit()))
        if c.e164 is not None:
            international = phonenumbers.parse(c.e164, None)
            assert phonenumbers.is_valid_number(international) or c.short_code, c.e164
            assert phonenumbers.region_code_for_country_code(international.country_code) == c.country, c.e164


def test_every_entry_has_a_source_and_a_checked_date_and_unchecked_ones_say_so():
    """An entry checked by a person names who; the others are verified: false, which the screens mark with `*`
    (tests/flows/test_help.py)."""
    for c in BUNDLED.all_contacts():
        assert c.source.strip() and isinstance(c.checked, dt.date) and c.checked <= dt.date.today()
        assert not c.verified or c.checked_by, (c.country, c.kind, c.name)


@pytest.mark.parametrize("origin", ORIGINS)
def test_no_home_only_number_is_reachable_abroad(origin):
    """From any host but their own country, a caller is shown only numbers of the host, or numbers of elsewhere
    that the data says are dialable from abroad and gives in international form."""
    for host in [*HOSTS, *ORIGINS]:
        if host == origin:
            continue
        for c in [*emergency_contacts(host, BUNDLED), *home_contacts(origin, host, BUNDLED),
                  *international_offices(host, BUNDLED)]:
            if c.reachable_from(host) and c.country != host:
                assert c.abroad and c.e164 and c.number_from(host) == c.e164, (origin, host, c.phone)
            if (c.short_code and not c.abroad) or (c.phone and len(c.phone.replace(" ", "")) <= 6 and not c.e164):
                assert c.country == host or not c.reachable_from(host), (origin, host, c.phone)


def test_every_number_states_whether_it_can_be_dialled_from_abroad(tmp_path):
    path = tmp_path / "dial.yaml"
    path.write_text("""
hosts:
  PH:
    emergency:
      - {kind: police, phone: "911", source: x, checked: 2026-01-01, verified: false}
      - {kind: trafficking, phone: "1343", abroad: true, source: x, checked: 2026-01-01, verified: false}
      - {kind: labour, phone: "1348", abroad: false, source: x, checked: 2026-01-01, verified: false}
      - {kind: women, phone: "1349", abroad: false, short_code: true, e164: "+6321349", source: x,
         checked: 2026-01-01, verified: false}
      - {kind: child, phone: "911", abroad: false, short_code: true, source: x, checked: 2026-01-01, verified: false}
""", encoding="utf-8")
    faults = "\n".join(validate(load_directory(path)))
    assert "say whether '911' can be dialled from abroad" in faults
    assert "abroad: true but no e164" in faults
    assert "'1348' is not a valid number of PH for libphonenumber" in faults
    assert "short code '1349' has an e164 but abroad: false" in faults
    assert "'911' is known to libphonenumber: drop short_code" in faults


def test_the_philippine_hotline_is_1348_at_home_and_its_published_international_form_abroad():
    """1348 answers only inside the Philippines; DMW publishes +63 2 1348 for calls from abroad, listed as an entry
    of its own (abroad_only) with its own source and, until someone checks it at DMW, the unchecked mark."""
    at_home = [c.number_from("PH") for c in home_contacts("PH", "PH", BUNDLED) if c.reachable_from("PH")]
    abroad = [c.number_from("AE") for c in home_contacts("PH", "AE", BUNDLED) if c.reachable_from("AE")]
    assert "1348" in at_home and "+6321348" not in at_home
    assert "+6321348" in abroad and "1348" not in abroad
    (intl,) = [c for c in home_contacts("PH", "AE", BUNDLED) if c.e164 == "+6321348"]
    assert intl.abroad_only and not intl.verified and intl.source.startswith("https://")
