"""The user guides in docs/, served inside the app so every page can link to its guide."""

import re
from functools import lru_cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from markdown_it import MarkdownIt

# slug → file in docs/; only these are served (no path from the URL touches the disk).
GUIDES = {
    "index": "README.md",
    "personal-tokens": "personal-tokens.md",
    "ci-tokens": "ci-tokens.md",
    "deployment-tokens": "deployment-tokens.md",
    "trusted-publishing": "trusted-publishing.md",
    "api": "api.md",
    "security": "security.md",
    "production": "production.md",
    "webhooks": "webhooks.md",
    "audit-export": "audit-export.md",
}
_FILE_TO_SLUG = {filename: slug for slug, filename in GUIDES.items()}
TABLE_BOX = "guide-table"
_MD_LINK = re.compile(r'href="([a-z-]+\.md)(#[^"]*)?"')


@lru_cache(maxsize=len(GUIDES))
def _render(slug: str) -> tuple[str, str]:
    """(title, HTML) of a guide. Raw HTML in the Markdown is escaped, not passed through."""
    text = (settings.BASE_DIR / "docs" / GUIDES[slug]).read_text()
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    markdown.core.ruler.push("heading_anchors", _add_heading_anchors)
    html = markdown.render(text)
    html = _MD_LINK.sub(_link_to_guide, html)
    # A wide table scrolls inside its own box, not the page (phones); the box takes the focus
    # so a keyboard can scroll it too.
    html = html.replace(
        "<table>", f'<div class="{TABLE_BOX}" tabindex="0" role="region" aria-label="Table"><table>'
    )
    html = html.replace("</table>", "</table></div>")
    html = html.replace("<pre>", '<pre tabindex="0">')
    title = text.splitlines()[0].lstrip("# ").strip()
    return title, html


def _add_heading_anchors(state) -> None:
    """Give each heading an id from its text, so pages can link to a section."""
    used: set[str] = set()
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        anchor = base = slugify(state.tokens[index + 1].content) or "section"
        number = 1
        while anchor in used:
            number += 1
            anchor = f"{base}-{number}"
        used.add(anchor)
        token.attrSet("id", anchor)


def _link_to_guide(match: re.Match) -> str:
    slug = _FILE_TO_SLUG.get(match[1])
    if slug is None:
        return match[0]
    return f'href="{reverse("guide", args=[slug])}{match[2] or ""}"'


def guide(request: HttpRequest, slug: str = "index") -> HttpResponse:
    if slug not in GUIDES:
        raise Http404
    title, html = _render(slug)
    return render(request, "guide.html", {"title": title, "body": mark_safe(html)})  # noqa: S308
