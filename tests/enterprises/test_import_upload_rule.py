"""Issue 10 item 6 (uploads): one rule for the upload form and the API serializer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enterprises.models import ImportBatch
from tests.enterprises.helpers import REGISTRY_HEADER, registry_rows, write_csv

pytestmark = pytest.mark.django_db

UNSUPPORTED = "不支持的文件类型 {suffix}：请使用 .xlsx 或 .csv。"


def _csv_bytes(tmp_path, encoding="utf-8"):
    return write_csv(tmp_path / "r.csv", REGISTRY_HEADER, registry_rows(2), encoding).read_bytes()


CASES = [
    ("r.txt", "utf-8", UNSUPPORTED.format(suffix=".txt")),
    ("r.xlsm", "utf-8", UNSUPPORTED.format(suffix=".xlsm")),
    ("registry", "utf-8", UNSUPPORTED.format(suffix="（无扩展名）")),
    ("r.xlsx", "utf-8", "文件不是有效的 .xlsx 工作簿。"),
    (
        "r.csv",
        "utf-16",
        "文件为 UTF-16（Unicode 文本）编码，不受支持：请另存为 CSV UTF-8 或 .xlsx 后重新上传。",
    ),
]


@pytest.mark.parametrize(("name", "encoding", "message"), CASES)
def test_the_upload_form_refuses(client, cast, tmp_path, name, encoding, message):
    client.force_login(cast.staff)
    upload = SimpleUploadedFile(name, _csv_bytes(tmp_path, encoding))
    response = client.post(
        reverse("enterprises:import_upload"), {"kind": "registry", "file": upload}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(("name", "encoding", "message"), CASES)
def test_the_api_refuses_the_same_files(client, cast, tmp_path, name, encoding, message):
    client.force_login(cast.staff)
    upload = SimpleUploadedFile(name, _csv_bytes(tmp_path, encoding))
    response = client.post("/api/v1/imports/", {"kind": "registry", "file": upload})
    assert response.status_code == 400
    assert response.json()["file"] == [message]
    assert not ImportBatch.objects.exists()


def test_the_api_applies_the_forms_size_limit(client, cast, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    client.force_login(cast.staff)
    upload = SimpleUploadedFile("r.csv", _csv_bytes(tmp_path))
    response = client.post("/api/v1/imports/", {"kind": "registry", "file": upload})
    assert response.status_code == 400
    assert response.json()["file"] == ["文件超过 0 MB 的大小限制。"]


def test_the_command_line_refuses_other_file_types(tmp_path, regions):
    from enterprises.importing import import_file

    path = tmp_path / "r.txt"
    path.write_bytes(_csv_bytes(tmp_path))
    batch = import_file("registry", path)
    assert batch.status == "rejected"
    assert batch.message == UNSUPPORTED.format(suffix=".txt")
