"""Journey 7 — a user of one county opens another county's enterprise by URL: 404, no data."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import LUCHENG_STREET, PINGYANG_TOWN, make_enterprise

pytestmark = pytest.mark.e2e


def test_another_countys_enterprise_by_url_is_not_found(page, live_server, login, shot, cast):
    own = make_enterprise(LUCHENG_STREET, name="鹿城本地制衣有限公司")
    other = make_enterprise(PINGYANG_TOWN, name="平阳外县机械有限公司", legal_rep="李四光")
    login(page, cast.outsider_staff)  # task force of 鹿城区

    response = page.goto(f"{live_server.url}{reverse('enterprises:detail', args=[own.pk])}")
    assert response.status == 200
    expect(page.locator("h1")).to_contain_text(own.name)

    # a link forwarded from a colleague of 平阳县
    response = page.goto(f"{live_server.url}{reverse('enterprises:detail', args=[other.pk])}")
    assert response.status == 404
    content = page.content()
    assert other.name not in content and other.uscc not in content and "李四光" not in content
    # A styled page in the user's language, with a way back home.
    expect(page.get_by_role("heading", name="此页面不存在，或不在您的查看范围内")).to_be_visible()
    expect(page.get_by_role("link", name="返回首页")).to_have_attribute("href", "/")
    shot(page, "journey7-not-found")
