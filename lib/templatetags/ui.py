"""Small presentation helpers shared by every page."""

import re
from datetime import UTC, datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

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
def page_link(context, number: int, param: str = "page") -> str:
    """This page's URL and query, with list page `number` in `param`."""
    query = context["request"].GET.copy()
    query[param] = number
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
    `confirm-reset-title`. With `submit`, the body sits in a POST form (HTMX and plain) to
    `action` (default: this request's URL, the one that served the dialog) whose footer has
    Cancel and the `submit` button, red with `danger`; without, a Close link. Cancel and
    Close go to `cancel` / `close`, by default `back` (set by lib.ui.render_dialog). The
    title is escaped; the body is already rendered."""
    request = context.get("request")
    if submit and not action and request is not None:
        action = request.path
    back = context.get("back", "")
    shell = context.template.engine.get_template("includes/dialog.html")
    return shell.render(
        template.Context(
            {
                "id": dialog_id,
                "title": title,
                "body": content,
                "action": action,
                "submit": submit,
                "cancel": cancel or back,
                "danger": danger,
                "close": close or (back if not submit else ""),
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


TABLE_OPTIONS = {"css", "columns", "empty", "page", "labelledby", "id", "refresh", "on", "foot"}
# The pager's words (includes/pager.html): what the rows are, and its two links; and the
# query parameter holding its page number when one page shows several lists (page_of).
TABLE_OPTIONS |= {"noun", "newer", "older", "param"}


@register.tag
def table(parser, token):
    """`{% table rows as row columns="Name|Token|" empty="…" %}<tr>…</tr>{% endtable %}`: the
    one table frame (templates/includes/table.html). The body is rendered once per row with
    `row` set; `columns` names the header cells (an empty name is the actions column, named
    for screen readers only); `empty` is said instead of an empty table; `page` adds its
    pager, worded by `noun`, `newer` and `older` ("tokens", "Newer", "Older" by default) and
    numbered in the query parameter `param` ("page");
    `foot` (HTML) follows a non-empty table. With `id`, the frame is a `<div>` that,
    given `refresh` and `on`, reloads itself from `refresh` (plus this request's query)
    whenever the `on` event fires (HTMX)."""
    bits = token.split_contents()
    if len(bits) < 4 or bits[2] != "as":
        raise template.TemplateSyntaxError("Use {% table ROWS as NAME option=value … %}.")
    options = template.base.token_kwargs(bits[4:], parser)
    if len(options) != len(bits) - 4 or not set(options) <= TABLE_OPTIONS:
        raise template.TemplateSyntaxError(f"{{% table %}} options are {sorted(TABLE_OPTIONS)}.")
    nodelist = parser.parse(("endtable",))
    parser.delete_first_token()
    return TableNode(parser.compile_filter(bits[1]), bits[3], options, nodelist)


class TableNode(template.Node):
    def __init__(self, rows, name: str, options: dict, nodelist):
        self.rows, self.name, self.options, self.nodelist = rows, name, options, nodelist

    def render(self, context) -> str:
        rows = self.rows.resolve(context, ignore_failures=True) or []
        options = {key: value.resolve(context) for key, value in self.options.items()}
        columns = options["columns"].split("|") if options.get("columns") else []
        body = []
        for row in rows:
            with context.push({self.name: row}):
                body.append(label_cells(self.nodelist.render(context), columns))
        request = context.get("request")
        refresh = options.get("refresh", "")
        if refresh and request is not None and request.GET:
            refresh = f"{refresh}?{request.GET.urlencode()}"
        frame = context.template.engine.get_template("includes/table.html")
        return frame.render(
            template.Context(
                {
                    **options,
                    "css": options.get("css", "striped"),
                    "columns": columns,
                    "refresh": refresh,
                    "rows": bool(body),
                    "body": mark_safe("".join(body)),  # noqa: S308  (rendered templates)
                    "request": request,
                },
                autoescape=context.autoescape,
            )
        )


CELL = re.compile(r"<td(?=[\s>])([^>]*)>")


def label_cells(row: str, columns: list[str]) -> str:
    """Each cell of a rendered row gets `data-label`, its column's name, unless it has one:
    on phones the table becomes one card per row, each value labelled (app.css, .cards).
    The actions column (no name) stays unlabelled."""
    index = -1

    def label(match: re.Match) -> str:
        nonlocal index
        index += 1
        attributes = match.group(1)
        if index >= len(columns) or not columns[index] or "data-label=" in attributes:
            return match.group(0)
        return f'<td data-label="{escape(columns[index])}"{attributes}>'

    return CELL.sub(label, row)
