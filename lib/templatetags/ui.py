"""Small presentation helpers shared by every page."""

from datetime import UTC, datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.html import format_html

register = template.Library()


@register.filter
def timestamp(value: datetime | None, empty: str = "—") -> str:
    """“3 minutes ago”, with the exact UTC time on hover."""
    if value is None:
        return empty
    utc = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        naturaltime(value),
    )


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key, "")


@register.simple_tag(takes_context=True)
def page_link(context, number: int) -> str:
    """This page's URL and query, at page `number`."""
    query = context["request"].GET.copy()
    query["page"] = number
    return f"{context['request'].path}?{query.urlencode()}"


@register.simple_block_tag(takes_context=True)
def dialog(
    context,
    content: str,
    dialog_id: str,
    *,
    title: str,
    action: str = "",
    submit: str = "",
    cancel: str = "",
    danger: bool = False,
    close: str = "",
) -> str:
    """The one dialog shell (templates/includes/dialog.html): `{% dialog "confirm-reset"
    title=… %}body{% enddialog %}` gives `<dialog id="confirm-reset-dialog">` titled by
    `confirm-reset-title`. With `action`, the body sits in a POST form (HTMX and plain) whose
    footer has Cancel (to `cancel`) and a `submit` button, red with `danger`; without, a
    Close link to `close` when given. The title is escaped; the body is already rendered."""
    shell = context.template.engine.get_template("includes/dialog.html")
    return shell.render(
        template.Context(
            {
                "id": dialog_id,
                "title": title,
                "body": content,
                "action": action,
                "submit": submit,
                "cancel": cancel,
                "danger": danger,
                "close": close,
                "csrf_token": context.get("csrf_token"),
            },
            autoescape=context.autoescape,
        )
    )


@register.simple_tag
def dialog_button(url: str, text: str, *, label: str = "", css: str = "outline secondary small"):
    """A link that opens the dialog at `url` in #dialog-slot (HTMX), or the page with that
    dialog open (no JavaScript)."""
    return format_html(
        '<a role="button" class="{}" href="{}" hx-get="{}" hx-target="#dialog-slot" '
        'hx-swap="innerHTML"{}>{}</a>',
        css,
        url,
        url,
        format_html(' aria-label="{}"', label) if label else "",
        text,
    )


@register.simple_block_tag(takes_context=True)
def table(
    context,
    content: str,
    css: str = "striped",
    *,
    rows=True,
    empty: str = "",
    page=None,
    labelledby: str = "",
    columns: str = "",
) -> str:
    """A scrollable table: a header row of `columns` ("Name|Token|…"; an empty name is the
    actions column, named for screen readers only), the body's rows, then the pager of
    `page`; or, when `rows` is empty, the `empty` sentence (templates/includes/table.html)."""
    tail = context.template.engine.get_template("includes/table.html")
    return tail.render(
        template.Context(
            {
                "css": css,
                "body": content,
                "rows": rows,
                "empty": empty,
                "page": page,
                "labelledby": labelledby,
                "columns": columns.split("|") if columns else [],
                "request": context.get("request"),
            },
            autoescape=context.autoescape,
        )
    )
