"""xlsx reading: calamine, and refusing zip bombs and entity-expansion bombs."""

import zipfile

import pytest

from enterprises.importing import import_file
from enterprises.models import Enterprise
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_xlsx

pytestmark = pytest.mark.django_db


def test_it_reads_an_xlsx(tmp_path, regions):
    path = write_xlsx(tmp_path / "r.xlsx", REGISTRY_HEADER, registry_rows(3))
    batch = import_file("registry", path)
    assert batch.status == "applied", batch.message
    assert Enterprise.objects.count() == 3


def test_a_zip_bomb_is_refused(tmp_path, regions):
    source = write_xlsx(tmp_path / "r.xlsx", REGISTRY_HEADER, registry_rows(1))
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b" " * (60 * 1024 * 1024) + b"</sheetData>")
            out.writestr(item.filename, data)
    batch = import_file("registry", bomb)
    assert batch.status == "rejected"
    assert "zip" in batch.message.lower() or "炸弹" in batch.message
    assert not Enterprise.objects.exists()


def test_an_entity_expansion_bomb_is_refused(tmp_path, regions):
    source = write_xlsx(tmp_path / "r.xlsx", REGISTRY_HEADER, registry_rows(1))
    bomb = tmp_path / "lol.xlsx"
    doctype = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = doctype + (data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data)
            out.writestr(item.filename, data)
    batch = import_file("registry", bomb)
    assert batch.status == "rejected"
    assert not Enterprise.objects.exists()
