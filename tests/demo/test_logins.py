"""`make run` prints the address it serves, whatever HOST says."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000/"),
        ("192.168.1.20:8080", "http://192.168.1.20:8080/"),
        ("8001", "http://127.0.0.1:8001/"),
        ("localhost", "http://localhost:8000/"),
    ],
)
def test_demo_logins_name_the_address_runserver_serves(address, url):
    out = StringIO()
    call_command("demo_logins", address=address, stdout=out)
    assert f"open {url}\n" in out.getvalue()
