"""CAP 1.2 alerts: the OASIS samples, Cancel and Update by reference, non-Actual status, hostile XML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

SAMPLES = Path("/work/shared/cap-samples")
CAP = "/api/v1/alerts/cap"
XML = {"Content-Type": "application/cap+xml"}


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _alert(identifier, *, msg_type="Alert", status="Actual", references="", infos="", sender="met@example.org"):
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>{sender}</sender><sent>2026-01-01T10:00:00+03:00</sent>
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
    rows = [{"phone": f"07110{i:05d}", "country": "KE", "language": lang, "topics": ["weather", "safety"]}
            for i, lang in enumerate(["en", "es", "fr", "sw"])]
    assert client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=headers).json["imported"] == 4


def test_oasis_samples(client, key_a, drain, at_server):
    _subscribe(client, key_a)
    r = client.post(CAP + "?countries=KE", data=_sample("oasis-cap12-a1-homeland-security-alert.xml"),
                    headers={**key_a, **XML})
    assert r.status_code == 202 and len(r.json["broadcasts"]) == 1
    b = client.get(f"/api/v1/broadcasts/{r.json['broadcasts'][0]}", headers=key_a).json
    assert b["priority"] == "emergency" and b["recipients"] == 4
    assert all(e["segments"] <= 3 for e in b["estimate"].values())
    # a2 expired in 2003: nothing reaches the public
    r = client.post(CAP + "?countries=KE", data=_sample("oasis-cap12-a2-severe-thunderstorm-warning.xml"),
                    headers={**key_a, **XML})
    assert r.status_code == 202 and r.json["broadcasts"] == []
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
        assert r.status_code == 202 and r.json["broadcasts"] == []
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


def test_long_text_fits_three_segments():
    from menus.gsm import sms_segments
    from outbox.cap import fit

    text = fit("Cyclone warning", "Move inland now. " * 60)
    assert sms_segments(text).segments == 3 and text.endswith("...")
