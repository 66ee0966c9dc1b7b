"""Every catalog held to the glossary of sensitive terms (menus/locale/glossary.yaml, docs/GLOSSARY.md): wherever
the English text of a key names a concept, each translation of that key uses that language's published term, and
no text anywhere uses a wording the glossary rules out (Swahili "usafirishaji" alone is shipping, Arabic "اتجار"
alone is trade, one name per thing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from menus.catalog import LOCALE_DIR, SOURCE_LANGUAGE, Catalog

GLOSSARY = yaml.safe_load((LOCALE_DIR / "glossary.yaml").read_text(encoding="utf-8"))
CATALOG = Catalog.load()
LANGUAGES = [lang for lang in CATALOG.languages if lang != SOURCE_LANGUAGE]
#: Keys whose text names things in their own language whatever the caller's (the language menu).
EXEMPT = re.compile(r"^language\.")


def texts(lang: str, key: str) -> list[str]:
    """Every text of ``key`` in ``lang``: its plural forms, or its one text."""
    forms = CATALOG.plurals.get(lang, {}).get(key)
    return [form for form in forms if form] if forms else [CATALOG.messages[lang].get(key, "")]


def test_every_concept_has_a_sourced_term_in_every_language() -> None:
    for concept, entry in GLOSSARY.items():
        re.compile(entry["en"])
        for lang in LANGUAGES:
            term = entry[lang]
            assert term["term"] and term["source"] and isinstance(term["checked"], bool), (concept, lang)
            assert re.search(term.get("pattern", re.escape(term["term"])), term["term"], re.IGNORECASE), (concept, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_translation_uses_the_glossary_term_where_the_source_names_the_concept(lang: str) -> None:
    faults = []
    for key, source in sorted(CATALOG.messages[SOURCE_LANGUAGE].items()):
        if EXEMPT.match(key):
            continue
        for concept, entry in GLOSSARY.items():
            if not re.search(entry["en"], source, re.IGNORECASE):
                continue
            term = entry[lang]
            pattern = term.get("pattern", re.escape(term["term"]))
            for text in texts(lang, key):
                if not re.search(pattern, text, re.IGNORECASE):
                    faults.append(f"{lang}: {key}: {concept} should read {term['term']!r}: {text!r}")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_text_uses_a_wording_the_glossary_rules_out(lang: str) -> None:
    faults = []
    for concept, entry in GLOSSARY.items():
        for pattern in entry.get("avoid", {}).get(lang, []):
            for key in sorted(CATALOG.messages[lang]):
                for text in texts(lang, key):
                    if re.search(pattern, text, re.IGNORECASE):
                        faults.append(f"{lang}: {key}: {concept}: {pattern!r} in {text!r}")
    assert not faults, "\n".join(faults)


def test_the_glossary_catches_the_wordings_of_issue_8() -> None:
    """The rules themselves: the faults #8 found are caught, the fixed wordings pass."""
    sw, ar = GLOSSARY["trafficking"]["avoid"]["sw"][0], GLOSSARY["trafficking"]["avoid"]["ar"][0]
    assert re.search(sw, "Kazi ya lazima au usafirishaji") and not re.search(sw, "usafirishaji haramu wa binadamu")
    assert re.search(ar, "عمل قسري أو اتجار") and not re.search(ar, "الاتجار بالبشر")
    assert re.search(GLOSSARY["alert"]["avoid"]["sw"][0], "Arifa za SMS", re.IGNORECASE)


def test_the_glossary_document_lists_every_term() -> None:
    document = (Path(__file__).parents[1] / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    for entry in GLOSSARY.values():
        for lang in LANGUAGES:
            assert entry[lang]["term"] in document, entry[lang]["term"]


#: A French word that would need an article or a contraction before a country name ("en Liban", "de Cameroun").
_FR_BEFORE_COUNTRY = re.compile(
    r"(?i)(\b(en|au|aux|de|du|des|le|la|les|pour|vers|à)\s+|\b[dl]')\{(country|host|home)\}")
#: An Arabic letter glued to a country placeholder (لـ{country} makes لـالمملكة) or a broken contraction.
_AR_GLUED = re.compile(r"[\u0621-\u064a]ـ?\{(country|host|home|countries)\}|لـال")


def test_no_template_needs_an_article_or_a_glued_preposition_before_a_country() -> None:
    faults = []
    for key, text in sorted(CATALOG.messages["fr"].items()):
        faults += [f"fr: {key}: {text!r}" for _ in _FR_BEFORE_COUNTRY.finditer(text)]
    for key, text in sorted(CATALOG.messages["ar"].items()):
        faults += [f"ar: {key}: {text!r}" for _ in _AR_GLUED.finditer(text)]
    assert not faults, "\n".join(faults)


def test_arabic_text_has_no_latin_words_or_latin_commas() -> None:
    """Latin words and ASCII commas inside right-to-left text reorder on many handsets (#8 item 4). Language names
    in their own script and spoken-only forms aside."""
    faults = []
    for key, text in sorted(CATALOG.messages["ar"].items()):
        if EXEMPT.match(key) or key.endswith(".voice") or key.startswith("voice."):
            continue
        body = re.sub(r"\{\w+\}", "", text)
        if re.search(r"[A-Za-z]{2,}", body) or "," in body:
            faults.append(f"ar: {key}: {text!r}")
    assert not faults, "\n".join(faults)
