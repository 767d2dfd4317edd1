"""Token tables: active tokens, or the revoked ones with `?show=revoked`, one page at a time."""

from lib.ui import HtmxHttpRequest, page_of


def token_listing(tokens, request: HtmxHttpRequest) -> dict:
    """The page of a token table: unrevoked (short-lived ones only until they expire), or
    revoked with `?show=revoked`."""
    show_revoked = request.GET.get("show") == "revoked"
    tokens = tokens.select_related("created_by", "revoked_by")
    page = page_of(request, tokens.revoked() if show_revoked else tokens.listed())
    return {"tokens": page.object_list, "page": page, "show_revoked": show_revoked}
