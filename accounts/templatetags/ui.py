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
