"""The shared template tags of lib/templatetags/ui.py: the one dialog shell and table frame."""

import pytest
from django.template import Context, Template, TemplateSyntaxError


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_shell_names_and_titles_the_dialog():
    html = render('{% dialog "confirm-reset" title="Reset it?" %}<p>Body</p>{% enddialog %}')
    assert '<dialog id="confirm-reset-dialog" data-remove-on-close open' in html
    assert 'aria-labelledby="confirm-reset-title"' in html
    assert '<h2 id="confirm-reset-title">Reset it?</h2>' in html
    assert "<p>Body</p>" in html
    assert "<form" not in html and "<footer>" not in html


def test_the_title_is_escaped_and_the_body_is_not_escaped_twice():
    html = render("{% dialog 'x' title=name %}<b>{{ name }}</b>{% enddialog %}", name="<script>&")
    assert '<h2 id="x-title">&lt;script&gt;&amp;</h2>' in html
    assert "<b>&lt;script&gt;&amp;</b>" in html
    assert "<script>" not in html


def test_with_an_action_the_body_is_a_post_form_with_cancel_and_submit():
    html = render(
        '{% dialog "confirm-revoke" title="Revoke?" action="/revoke/" cancel="/list/" '
        'submit="Revoke" danger=True %}<p>Sure?</p>{% enddialog %}',
        csrf_token="the-csrf-token",
    )
    assert '<form method="post" action="/revoke/" hx-post="/revoke/"' in html
    assert 'name="csrfmiddlewaretoken" value="the-csrf-token"' in html
    assert html.index("<p>Sure?</p>") < html.index("<footer>")
    assert '<a role="button" class="secondary" href="/list/" data-close-dialog>Cancel</a>' in html
    assert '<button type="submit" class="danger">Revoke</button>' in html


def test_a_plain_submit_is_not_red():
    html = render(
        '{% dialog "member-add" title="Add" action="/add/" cancel="/" submit="Add member" %}'
        "{% enddialog %}"
    )
    assert '<button type="submit">Add member</button>' in html


def test_close_gives_a_close_link():
    html = render('{% dialog "config-error" title="Oops" close="/back/" %}{% enddialog %}')
    assert '<a role="button" href="/back/" data-close-dialog>Close</a>' in html


def test_dialog_button_opens_the_dialog_in_the_slot():
    html = render('{% dialog_button "/x/revoke/" "Revoke" label=label %}', label='Revoke "a"')
    assert 'href="/x/revoke/" hx-get="/x/revoke/" hx-target="#dialog-slot"' in html
    assert 'aria-label="Revoke &quot;a&quot;"' in html
    assert html.endswith(">Revoke</a>")


def test_a_form_posts_to_the_url_that_served_it_and_cancels_back(rf):
    html = render(
        '{% dialog "member-add" title="Add" submit="Add member" %}{% enddialog %}',
        request=rf.get("/orgs/acme/settings/members/add/"),
        back="/orgs/acme/settings/members/",
    )
    assert 'action="/orgs/acme/settings/members/add/"' in html
    assert 'hx-post="/orgs/acme/settings/members/add/"' in html
    assert 'href="/orgs/acme/settings/members/" data-close-dialog>Cancel</a>' in html
    assert ">Close</a>" not in html


def test_without_a_form_close_goes_back(rf):
    html = render(
        '{% dialog "token-shown" title="New" %}{% enddialog %}',
        request=rf.get("/settings/tokens/new/"),
        back="/settings/tokens/",
    )
    assert '<a role="button" href="/settings/tokens/" data-close-dialog>Close</a>' in html
    assert "<form" not in html


TABLE = (
    '{% table rows as row columns="Name|" empty="Nothing yet." %}'
    "<tr><td>{{ row }}</td><td>x</td></tr>{% endtable %}"
)


def test_table_renders_each_row_under_its_columns():
    html = render(TABLE, rows=["a<b", "c"])
    assert '<th scope="col">Name</th>' in html
    assert '<th scope="col"><span class="visually-hidden">Actions</span></th>' in html
    assert html.count('<tr><td data-label="Name">') == 2
    assert '<td data-label="Name">a&lt;b</td>' in html
    assert "Nothing yet." not in html


def test_an_empty_table_says_so_instead():
    html = render(TABLE, rows=[])
    assert '<p class="empty">Nothing yet.</p>' in html and "<table" not in html


def test_a_refreshing_table_reloads_itself_with_this_query(rf):
    html = render(
        '{% table rows as row id="token-table" refresh="/t/" on="tokensChanged" %}'
        "<tr></tr>{% endtable %}",
        rows=[1],
        request=rf.get("/t/", {"show": "revoked"}),
    )
    assert '<div id="token-table" hx-get="/t/?show=revoked"' in html
    assert 'hx-trigger="tokensChanged from:body"' in html


def test_table_refuses_unknown_options():
    with pytest.raises(TemplateSyntaxError):
        Template("{% table rows as row colour='red' %}{% endtable %}")


def test_each_cell_is_labelled_by_its_column_for_the_phone_cards():
    html = render(
        '{% table rows as row columns="Name|Last used|" %}'
        '<tr><td>{{ row }}</td><td class="when">now</td><td class="actions">x</td></tr>'
        "{% endtable %}",
        rows=["a"],
    )
    assert '<td data-label="Name">a</td>' in html
    assert '<td data-label="Last used" class="when">now</td>' in html
    # The actions column has no name: no label.
    assert '<td class="actions">x</td>' in html
    assert '<table class="striped cards">' in html


def test_a_cell_keeps_its_own_label_and_column_names_are_escaped():
    html = render(
        '{% table rows as row columns="A &amp; B|C" %}'
        '<tr><td data-label="Own">1</td><td>2</td></tr>{% endtable %}',
        rows=[1],
    )
    assert '<td data-label="Own">1</td>' in html
    assert '<td data-label="C">2</td>' in html
