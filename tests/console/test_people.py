"""People and keys: an admin lists, makes (with casework countries) and revokes the agency's keys only."""

from __future__ import annotations

import re

from gateway.console import audit
from outbox.apikeys import create_key, list_keys, lookup
from tests.console.helpers import make_user


def test_an_admin_makes_lists_and_revokes_the_agencys_keys(redis, console):
    make_user(redis, "ana@relief.org", role="admin")
    _other_key, other = create_key(redis, "Gulf Aid")
    console.login("ana@relief.org")
    page = console.post("/console/people/keys", {"scopes": ["broadcasts", "reports"], "countries": "ke, UGA"},
                        form_page="/console/people/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    [record] = list_keys(redis, "Relief Org")
    assert record.countries == ("KE", "UG") and lookup(redis, key) is not None
    assert record.id in html and other.id not in html  # listed, and only this agency's
    bad = console.post("/console/people/keys", {"scopes": ["broadcasts"], "countries": "Narnia"},
                       form_page="/console/people/")
    assert bad.status_code == 422 and "Narnia" in bad.get_data(as_text=True)
    assert console.post(f"/console/people/keys/{other.id}/revoke", form_page="/console/people/").status_code == 404
    assert console.post(f"/console/people/keys/{record.id}/revoke", form_page="/console/people/").status_code == 302
    assert lookup(redis, key) is None and list_keys(redis, "Gulf Aid")
    assert [e.action for e in audit.recent(redis, "Relief Org")][:2] == ["apikey.revoke", "apikey.create"]
