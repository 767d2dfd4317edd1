from django.utils.functional import SimpleLazyObject

from orgs.models import Membership


def navigation(request) -> dict:
    """The signed-in user's organizations for the main navigation (one query, when shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_memberships": SimpleLazyObject(
            lambda: list(
                Membership.objects.filter(user=user)
                .select_related("organization")
                .order_by("organization__name")
            )
        )
    }
