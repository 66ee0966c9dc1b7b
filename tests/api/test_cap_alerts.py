"""CAP 1.2 alerts: the OASIS samples, Cancel and Update by reference, non-Actual status, hostile XML, alerts
owned per agency, the 24 h age rule, and texts of any size handled in bounded time."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from outbox import subscribers
from tests.conftest import TEST_KEYRING

SAMPLES = Path(__file__).parent.parent / "data" / "cap"
CAP = "/api/v1/alerts/cap"
XML = {"Content-Type": "application/cap+xml"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sample(name: str, *, fresh: bool = True) -> bytes:
    """A sample as published, or (``fresh``) as if sent just now: the samples date from 2003."""
    body = (SAMPLES / name).read_bytes()
    return re.sub(rb"<sent>[^<]*</sent>", f"<sent>{_now()}</sent>".encode(), body) if fresh else body


def _alert(identifier, *, msg_type="Alert", status="Actual", references="", infos="", sender="met@example.org",
           sent=None):
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent or _now()}</sent>
  <status>{status}</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}{infos}
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>
</alert>""".encode()


def _info(lang, headline, *, severity="Severe", urgency="Immediate", country="KEN", expires=None, instruction=""):
    exp = f"<expires>{expires}</expires>" if expires else ""
    return f"""<info><language>{lang}</language><category>Met</category><event>Flood</event>
  <urgency>{urgency}</urgency><severity>{severity}</severity><certainty>Likely</certainty>{exp}
  <headline>{headline}</headline><instruction>{instruction}</instruction>
  <area><areaDesc>Coast</areaDesc><geocode><valueName>ISO3166-1</valueName><value>{country}</value></geocode></area>
</info>"""


def _subscribe(client, headers):
    """Four Kenyan subscribers in en, es, fr, sw. The API refuses a language with no catalog (es), so the Spanish
    one is stored directly: a CAP text in a language only some subscribers have still reaches exactly them."""
    rows = [{"phone": f"07110{i:05d}", "country": "KE", "language": lang, "topics": ["weather", "safety"]}
            for i, lang in enumerate(["en", "es", "fr", "sw"])]
    answer = client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=headers).json
    assert answer["imported"] == 3 and [r["index"] for r in answer["rejected"]] == [1]
    subscribers.subscribe(client.application.extensions["gateway"].redis, TEST_KEYRING, "+254711000001",
                          country="KE", language="es", topics=["weather", "safety"], source="api")


def test_oasis_samples(client, key_a, drain, at_server):
    _subscribe(client, key_a)
    r = client.post(CAP + "?countries=KE", data=_sample("oasis-cap12-a1-homeland-security-alert.xml"),
                    headers={**key_a, **XML})
    assert r.status_code == 202 and len(r.json["broadcasts"]) == 1
    b = client.get(f"/api/v1/broadcasts/{r.json['broadcasts'][0]}", headers=key_a).json
    assert b["priority"] == "emergency" and b["recipients"] == 4
    assert all(e["segments"] <= 3 for e in b["estimate"].values())
    # a2 expired in 2003: nothing reaches the public, and the answer says why
    r = client.post(CAP + "?countries=KE", data=_sample("oasis-cap12-a2-severe-thunderstorm-warning.xml"),
                    headers={**key_a, **XML})
    assert r.status_code == 202 and r.json["broadcasts"] == [] and r.json["skipped"].startswith("expired")
    # a3 updates an alert we never saw: sent as a new one, normal lane (Past/Minor)
    r = client.post(CAP + "?countries=KE", data=_sample("oasis-cap12-a3-earthquake-update.xml"),
                    headers={**key_a, **XML})
    b = client.get(f"/api/v1/broadcasts/{r.json['broadcasts'][0]}", headers=key_a).json
    assert b["priority"] == "normal"
    # a4: English and Spanish texts, each subscriber in theirs, the others in the first (English)
    r = client.post(CAP + "?countries=KEN", data=_sample("oasis-cap12-a4-amber-alert-en-es.xml"),
                    headers={**key_a, **XML})
    bid = r.json["broadcasts"][0]
    at_server.sent.clear()
    drain()
    amber = [s for s in at_server.sent if "Amber" in s.message]
    by_phone = {p: s.message for s in amber for p in s.to}
    assert by_phone["+254711000001"].startswith("Alerta Amber")
    assert by_phone["+254711000000"].startswith("Amber Alert") and by_phone["+254711000003"].startswith("Amber")
    assert client.get(f"/api/v1/broadcasts/{bid}", headers=key_a).json["status"] == "done"


def test_cancel_and_update_follow_references(client, key_a, drain, at_server):
    _subscribe(client, key_a)
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    first = client.post(CAP, data=_alert("A1", infos=_info("en", "Flood", expires=later)), headers={**key_a, **XML})
    first_id = first.json["broadcasts"][0]
    again = client.post(CAP, data=_alert("A1", infos=_info("en", "Flood", expires=later)), headers={**key_a, **XML})
    assert again.json["broadcasts"] == [first_id]
    ref_a1, ref_a2 = "met@example.org,A1,2026-01-01T10:00:00+03:00", "met@example.org,A2,2026-01-01T10:00:00+03:00"
    update = client.post(CAP, data=_alert("A2", msg_type="Update", references=ref_a1,
                                          infos=_info("fr", "Inondation: l’eau monte", country="")),
                         headers={**key_a, **XML})
    assert update.status_code == 202, update.json
    update_id = update.json["broadcasts"][0]
    assert client.get(f"/api/v1/broadcasts/{first_id}", headers=key_a).json["status"] == "cancelled"
    upd = client.get(f"/api/v1/broadcasts/{update_id}", headers=key_a).json
    assert upd["recipients"] == 4 and upd["estimate"]["fr"]["encoding"] == "GSM-7"  # ’ folded to '
    cancel = client.post(CAP, data=_alert("A3", msg_type="Cancel",
                                          references=f"x@y,zz,2026-01-01T00:00:00Z {ref_a2}"),
                         headers={**key_a, **XML})
    assert cancel.json["broadcasts"] == [update_id]
    drain()
    assert at_server.all_recipients() == []


def test_non_actual_status_reaches_no_one(client, key_a, at_server, drain):
    _subscribe(client, key_a)
    for status in ("Test", "Exercise", "Draft", "System"):
        r = client.post(CAP, data=_alert(f"T-{status}", status=status, infos=_info("en", "Drill")),
                        headers={**key_a, **XML})
        assert r.status_code == 202 and r.json["broadcasts"] == [] and status in r.json["skipped"]
    drain()
    assert at_server.all_recipients() == []


def test_bad_cap_bodies(client, key_a):
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>"""
    cases = [(b"not xml", 400), (bomb, 400), (b"<alert/>", 400),
             (_alert("X", infos=_info("en", "x").replace("<urgency>Immediate</urgency>", "")), 422),
             (_alert("X", infos=_info("en", "x", severity="Huge")), 422),
             (_alert("X", msg_type="Cancel"), 422),
             (_alert("X", infos=_info("en", "x", country="")), 422)]
    for body, status in cases:
        r = client.post(CAP, data=body, headers={**key_a, **XML})
        assert r.status_code == status, (body[:80], r.json)
        assert r.json["error"]["code"] in ("invalid_cap", "invalid")
    assert client.post(CAP + "?countries=Kenya!", data=_alert("Y"), headers={**key_a, **XML}).status_code == 400
    assert client.post(CAP, data=b"x" * (600 * 1024), headers={**key_a, **XML}).status_code == 413


def test_long_text_fits_three_segments_with_its_footer(client, key_a, drain, at_server):
    _subscribe(client, key_a)
    long = _info("en", "Cyclone warning", instruction="Move inland now. " * 60)
    r = client.post(CAP, data=_alert("LONG", infos=long), headers={**key_a, **XML})
    b = client.get(f"/api/v1/broadcasts/{r.json['broadcasts'][0]}", headers=key_a).json
    assert all(e["segments"] == 3 for e in b["estimate"].values())
    drain()
    from menus.gsm import sms_segments

    sent = at_server.messages_to("+254711000000")[0]
    body, footer = sent.split("\n")
    assert body.endswith("...") and footer == f"agency-a, ref {b['ref']}" and sms_segments(sent).segments == 3


def _ids(client, key):
    return [b["id"] for b in client.get("/api/v1/broadcasts", headers=key).json["broadcasts"]]


def test_alerts_belong_to_the_agency_that_posted_them(client, key_a, key_b):
    _subscribe(client, key_a)
    mine = client.post(CAP, data=_alert("SHARED-1", infos=_info("en", "Flood")), headers={**key_a, **XML})
    mine_id = mine.json["broadcasts"][0]
    ref = f"met@example.org,SHARED-1,{_now()}"
    cancel = client.post(CAP, data=_alert("B-C", msg_type="Cancel", references=ref), headers={**key_b, **XML})
    assert cancel.status_code == 404 and cancel.json["error"]["code"] == "not_found"
    update = client.post(CAP, data=_alert("B-U", msg_type="Update", references=ref,
                                          infos=_info("en", "Flood over")), headers={**key_b, **XML})
    assert update.status_code == 202 and update.json["broadcasts"] != [mine_id]  # sent as a new alert of B's
    same = client.post(CAP, data=_alert("SHARED-1", infos=_info("en", "Flood")), headers={**key_b, **XML})
    assert same.status_code == 202 and same.json["broadcasts"][0] != mine_id
    assert client.get(f"/api/v1/broadcasts/{mine_id}", headers=key_a).json["status"] == "sending"
    assert _ids(client, key_a) == [mine_id]


def test_an_alert_posted_again_is_not_sent_again(client, key_a):
    _subscribe(client, key_a)
    body = _sample("oasis-cap12-a1-homeland-security-alert.xml")
    first = client.post(CAP + "?countries=KE", data=body, headers={**key_a, **XML}).json["broadcasts"]
    again = client.post(CAP + "?countries=KE", data=body, headers={**key_a, **XML}).json["broadcasts"]
    assert first == again and _ids(client, key_a) == first


def test_an_alert_sent_more_than_a_day_ago_reaches_no_one(client, key_a, drain, at_server):
    _subscribe(client, key_a)
    r = client.post(CAP + "?countries=KE", data=_sample("oasis-cap12-a1-homeland-security-alert.xml", fresh=False),
                    headers={**key_a, **XML})
    assert r.status_code == 202 and r.json["broadcasts"] == [] and "24 h" in r.json["skipped"]
    old = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
    r = client.post(CAP, data=_alert("OLD", infos=_info("en", "Flood"), sent=old), headers={**key_a, **XML})
    assert r.json["broadcasts"] == [] and "24 h" in r.json["skipped"]
    recent = (datetime.now(UTC) - timedelta(hours=23)).isoformat()
    r = client.post(CAP, data=_alert("RECENT", infos=_info("en", "Flood"), sent=recent), headers={**key_a, **XML})
    assert len(r.json["broadcasts"]) == 1 and "skipped" not in r.json
    drain()
    assert all("Flood" in s.message for s in at_server.sent)


ROOM = 512 * 1024 - 3000  # a field as large as the 512 KB limit leaves room for


def _info_with(field: str, value: str, lang: str = "en") -> str:
    parts = {"language": lang, "category": "Met", "event": "Flood", "urgency": "Immediate", "severity": "Severe",
             "certainty": "Likely", "headline": "Flood", "instruction": "Move", "description": "",
             "areaDesc": "Coast"}
    parts[field] = value
    area = (f"<area><areaDesc>{parts.pop('areaDesc')}</areaDesc>"
            "<geocode><valueName>ISO3166-1</valueName><value>KEN</value></geocode></area>")
    return "<info>" + "".join(f"<{k}>{v}</{k}>" for k, v in parts.items()) + area + "</info>"


HUGE = {
    "headline of one word": _info_with("headline", "W" * ROOM),
    "headline of Arabic words": _info_with("headline", "فيضان " * (ROOM // 12)),
    "headline of extension characters": _info_with("headline", "€" * (ROOM // 3)),
    "instruction of short words": _info_with("instruction", "go " * (ROOM // 3)),
    "description": _info_with("description", "é" * (ROOM // 2)).replace("<instruction>Move</instruction>", ""),
    "event": _info_with("event", "E" * ROOM).replace("<headline>Flood</headline>", ""),
    "area description": _info_with("areaDesc", "A" * ROOM),
    "language": _info_with("language", "x" * ROOM),
    "categories": _info_with("category", "Met</category><category>" * (ROOM // 25)),
    "geocodes": _info_with("areaDesc", "C</areaDesc>" + "<geocode><valueName>ISO3166-1</valueName><value>UGA"
                           "</value></geocode>" * (ROOM // 75) + "<areaDesc>C"),
    "many infos": _info_with("headline", "Flood") * (ROOM // len(_info_with("headline", "Flood"))),
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_every_field_at_512_kb_is_handled_within_a_second(client, key_a, case):
    _subscribe(client, key_a)
    body = _alert(f"HUGE-{case}", infos=HUGE[case])
    assert 400 * 1024 < len(body) <= 512 * 1024
    started = time.perf_counter()
    r = client.post(CAP + "?countries=KE", data=body, headers={**key_a, **XML})
    elapsed = time.perf_counter() - started
    assert r.status_code in (202, 400, 422), r.get_data(as_text=True)[:200]
    assert elapsed < 1.0, f"{case}: {elapsed:.2f} s"


@pytest.mark.parametrize("field", ["identifier", "sender", "references"])
def test_every_header_field_at_512_kb_is_handled_within_a_second(client, key_a, field):
    _subscribe(client, key_a)
    value = {"identifier": "I" * ROOM, "sender": "s" * ROOM,
             "references": " ".join(["met@example.org,X,2026-01-01T00:00:00Z"] * (ROOM // 40))}[field]
    body = _alert("ID", infos=_info("en", "Flood"))
    if field == "references":
        body = _alert("ID", msg_type="Update", references=value, infos=_info("en", "Flood"))
    else:
        body = body.replace(f"<{field}>".encode(), f"<{field}>{value}".encode(), 1)
    started = time.perf_counter()
    r = client.post(CAP, data=body, headers={**key_a, **XML})
    elapsed = time.perf_counter() - started
    assert r.status_code in (202, 400, 422), r.get_data(as_text=True)[:200]
    assert elapsed < 1.0, f"{field}: {elapsed:.2f} s"


def test_an_alert_nobody_subscribed_to_is_still_public(client, key_a, drain, at_server):
    """CONTRACT §3: CAP alerts are public. An Actual, current alert for Qatar/Safety that no subscriber holds
    sends nothing, yet the "latest alerts" screen of Qatar lists it, and a Cancel of it is no 404 and takes it
    off that screen."""
    from tests.conftest import Phone
    from tests.flows.conftest import fresh, language_option

    def latest_in_qatar() -> str:
        phone = Phone(client, phone="+254711000001", network="42701")  # a Kenyan SIM roaming in Qatar
        if "Kiswahili" not in phone.dial():
            phone.send(language_option(fresh(phone)))
        phone.send("1")
        phone.redial()
        return phone.send("3", "4")

    info = _info("en", "Sandstorm on the coast road", country="QAT").replace(
        "<category>Met</category>", "<category>Safety</category>")
    r = client.post(CAP, data=_alert("QA-1", infos=info), headers={**key_a, **XML})
    assert r.status_code == 202 and len(r.json["broadcasts"]) == 1, r.json
    assert "no subscriber" in r.json["skipped"]
    b = client.get(f"/api/v1/broadcasts/{r.json['broadcasts'][0]}", headers=key_a).json
    assert b["status"] == "done" and b["counts"]["recipients"] == 0
    assert "Sandstorm on the coast road" in latest_in_qatar()
    cancel = client.post(CAP, data=_alert("QA-2", msg_type="Cancel", references=f"met@example.org,QA-1,{_now()}"),
                         headers={**key_a, **XML})
    assert cancel.status_code == 202 and cancel.json["broadcasts"] == r.json["broadcasts"], cancel.json
    assert "Sandstorm" not in latest_in_qatar()
    drain()
    assert at_server.all_recipients() == []
