"""GSM 03.38 arithmetic, checked against a table typed from the standard independently of menus.gsm."""

import pytest

from menus.gsm import fits_ussd, is_gsm7, septets, size_of, sms_segments, to_gsm_lookalikes, ussd_limit

# 3GPP TS 23.038 default alphabet, row by row (0x00-0x7F), ESC (0x1B) left out.
STANDARD_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
STANDARD_EXTENSION = "\f^{}\\[~]|€"


def test_every_standard_character_is_gsm7_and_counts_right():
    assert len(STANDARD_BASIC) == 127
    for char in STANDARD_BASIC:
        assert is_gsm7(char) and septets(char) == 1, repr(char)
    for char in STANDARD_EXTENSION:
        assert is_gsm7(char) and septets(char) == 2, repr(char)


@pytest.mark.parametrize("char", ["ê", "ç", "€ê", "ع", "😀", "‘", "Ş"])
def test_characters_outside_the_tables_force_ucs2(char):
    assert size_of("abc" + char)[0] == "UCS-2"


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # 160 septets
        ("€" * 81, "GSM-7", 2),  # 162 septets: 76 pairs fill part one (152 of 153), 5 go to part two
        ("a" * 152 + "€", "GSM-7", 1),  # 154 septets fit one SMS (160)
        ("a" * 160 + "€", "GSM-7", 2),
        ("ع" * 70, "UCS-2", 1),
        ("ع" * 71, "UCS-2", 2),
        ("ع" * 134, "UCS-2", 2),
        ("ع" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # 70 UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_sms_segments(text, encoding, segments):
    estimate = sms_segments(text)
    assert (estimate.encoding, estimate.segments) == (encoding, segments)


def test_escape_pairs_are_not_split_across_parts():
    # 152 plain septets then a euro: the pair would straddle the first part's 153rd septet.
    text = "a" * 152 + "€" + "a" * 10
    assert sms_segments(text).segments == 2
    assert sms_segments("a" * 152 + "€" * 77).segments == 3


def test_ussd_budget():
    assert ussd_limit("GSM-7", 160) == 160
    assert ussd_limit("GSM-7", 200) == 182
    assert ussd_limit("UCS-2", 160) == 80
    assert ussd_limit("UCS-2", 120) == 60
    assert fits_ussd("a" * 160, 160) and not fits_ussd("a" * 161, 160)
    assert not fits_ussd("a" * 159 + "€", 160)
    assert fits_ussd("ع" * 80, 160) and not fits_ussd("ع" * 81, 160)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Être à côté – l’été…", "Etre à coté - l'été..."),
        ("Français", "Francais"),
        ("Türkiye’de işçi", "Türkiye'de isci"),
        ("plain", "plain"),
    ],
)
def test_lookalikes_make_latin_text_gsm7(text, folded):
    assert to_gsm_lookalikes(text) == folded
    assert is_gsm7(folded)


def test_lookalikes_leave_arabic_as_it_is():
    text = "مساعدة طارئة"
    assert to_gsm_lookalikes(text) == text


def _foldings() -> dict:
    import yaml

    from menus.catalog import LOCALE_DIR

    return yaml.safe_load((LOCALE_DIR / "foldings.yaml").read_text(encoding="utf-8"))


def test_gsm7_letters_are_kept_and_only_missing_ones_fold():
    assert to_gsm_lookalikes("Émirats, réf. très où à") == "Émirats, réf. très où à"
    assert to_gsm_lookalikes("Être reçu, arrêter") == "Etre recu, arreter"


def test_folding_never_changes_a_catalog_word_into_another_word():
    """Every word of every catalog that folding changes is a reviewed, meaning-keeping pair (#8: "plus sûr" folded
    to "plus sur", "more on"); a pair known to make another word is refused outright."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    from menus.catalog import LOCALE_DIR, is_spoken

    foldings = _foldings()
    faults = []
    for path in sorted(Path(LOCALE_DIR).rglob("*.po")):
        lang = path.stem
        allowed = foldings["allowed"].get(lang, {})
        refused = foldings["refused"].get(lang, {})
        assert not set(allowed) & set(refused), (lang, set(allowed) & set(refused))
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            key = message.id[0] if isinstance(message.id, tuple | list) else message.id
            if not key or not message.string or is_spoken(str(key)):
                continue
            for text in message.string if isinstance(message.string, tuple | list) else [message.string]:
                folded = to_gsm_lookalikes(text)
                if not is_gsm7(folded):
                    continue  # kept as it is: the page is UCS-2 anyway
                for word, bare in zip(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text),
                                      re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", folded), strict=True):
                    if word != bare and allowed.get(word) != bare:
                        faults.append(f"{path.relative_to(LOCALE_DIR)}: {key}: {word!r} folds to {bare!r}"
                                      + (" (refused: another word)" if word in refused else " (not reviewed)"))
    assert not faults, "\n".join(faults)
