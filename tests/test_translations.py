"""Chinese is the default language: every catalogue is complete and compiled."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

CATALOGUES = sorted(
    path
    for path in Path(settings.BASE_DIR).glob("**/locale/*/LC_MESSAGES/django.po")
    if ".venv" not in path.parts
)


def untranslated(po_path):
    text = po_path.read_text(encoding="utf-8")
    entries = re.findall(r'msgid ((?:"(?:[^"\\]|\\.)*"\n)+)msgstr ""\n(?!")', text)
    return [entry for entry in entries if entry.strip() != '""']


def fuzzy(po_path):
    """msgids of entries marked fuzzy (a guess by msgmerge: not compiled, so shown in English)."""
    text = po_path.read_text(encoding="utf-8")
    # the whole msgid: a long one starts with an empty line ("") and goes on below
    entries = re.findall(r'#, fuzzy\n(?:#\|[^\n]*\n)*msgid ((?:"(?:[^"\\]|\\.)*"\n)+)', text)
    return [
        entry for entry in entries if entry.strip() != '""'
    ]  # the header is fuzzy by convention


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_every_catalogue_entry_is_translated(po_path):
    assert untranslated(po_path) == []
    assert fuzzy(po_path) == []
    assert po_path.with_suffix(".mo").exists(), "run make messages to compile the catalogue"


def test_the_default_language_is_chinese(client):
    assert settings.LANGUAGE_CODE == "zh-hans"
    body = client.get("/login/").content.decode()
    assert "登录融协" in body


def test_english_is_available(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    body = client.get("/login/").content.decode()
    assert "Log in to Rongxie" in body


def test_model_labels_are_translated():
    from loans.models import Loan

    with translation.override("zh-hans"):
        assert str(Loan._meta.verbose_name) == "贷款"


def test_english_catalogues_map_each_string_to_itself():
    wrong = []
    for po_path in CATALOGUES:
        if po_path.parts[-3] != "en":
            continue
        text = po_path.read_text(encoding="utf-8")
        for msgid, msgstr in re.findall(r'\nmsgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', text):
            source, shown = (
                "".join(re.findall(r'"(.*)"', msgid)),
                "".join(re.findall(r'"(.*)"', msgstr)),
            )
            if source and source != shown:
                wrong.append((str(po_path), source, shown))
    assert wrong == []
