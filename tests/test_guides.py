import pytest
from django.urls import reverse

from accounts.guides import GUIDES


@pytest.mark.parametrize("slug", list(GUIDES))
def test_every_guide_renders(client, db, slug):
    response = client.get(reverse("guide", args=[slug]))
    assert response.status_code == 200
    assert "<h1 id=" in response.content.decode()


def test_links_between_guides_point_at_the_app(client, db):
    body = client.get(reverse("guide-index")).content.decode()
    assert f'href="{reverse("guide", args=["personal-tokens"])}"' in body
    assert '.md"' not in body


def test_the_migration_guide_has_the_steps(client, db):
    body = client.get(reverse("guide", args=["ci-tokens"])).content.decode()
    for step in (
        "TOKENDESK_TOKEN",
        "Keep the old secret",
        "Verify",
        "revoke the legacy credential",
    ):
        assert step in body


def test_unknown_guides_are_404(client, db):
    assert client.get("/docs/../settings/").status_code == 404
    assert client.get(reverse("guide", args=["nope"])).status_code == 404


def test_pages_link_to_their_guide(signed_in):
    body = signed_in.get(reverse("tokens:personal")).content.decode()
    assert reverse("guide", args=["personal-tokens"]) in body


def test_headings_have_anchors(client, db):
    body = client.get(reverse("guide", args=["ci-tokens"])).content.decode()
    assert '<h2 id="migrating-deployments-to-ci-tokens">' in body


def test_tables_and_code_scroll_in_their_own_box(client, db):
    html = client.get("/docs/api/").content.decode()
    assert '<div class="guide-table" tabindex="0" role="region" aria-label="Table"><table>' in html
    assert html.count("<table>") == html.count('<div class="guide-table"')
    code = client.get("/docs/ci-tokens/").content.decode()
    assert "<pre>" not in code and '<pre tabindex="0">' in code
