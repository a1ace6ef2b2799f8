import pytest
from django.conf import settings


@pytest.fixture(params=["sql", "python"])
def engine(request, regions):
    """Both build paths: set-based SQL (PostgreSQL only) and the portable ORM path."""
    if request.param == "sql" and not settings.IS_POSTGRES:
        pytest.skip("the SQL path needs PostgreSQL")
    return request.param
