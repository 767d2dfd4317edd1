"""The `resource:action` permission vocabulary and its algebra (docs/design.md). Pure, no Django."""

from collections.abc import Iterable

PERMISSIONS: dict[str, str] = {
    "orgs:read": "List and view organizations",
    "orgs:write": "Change organization settings: the token lifecycle policy (includes read)",
    "members:read": "View members and roles",
    "members:write": "Change members and roles (includes read)",
    "projects:read": "List and view projects",
    "projects:write": "Create, update and delete projects (includes read)",
    "deployments:read": "View deployments",
    "deployments:write": "Create deployments (includes read)",
    "tokens:read": "View token metadata",
    "tokens:write": "Create, reset and revoke tokens (includes read)",
    "audit:read": "Read the audit log",
}

DEFAULT_PERMISSIONS = frozenset({"projects:read", "deployments:write"})

ROLE_PRESETS: dict[str, frozenset[str]] = {
    "ci": DEFAULT_PERMISSIONS,
    "read_only": frozenset(p for p in PERMISSIONS if p.endswith(":read")),
    "admin": frozenset(PERMISSIONS),
}
CUSTOM_ROLE = "custom"
ROLE_LABELS = {
    "ci": "CI token",
    "read_only": "Read only",
    "admin": "Admin",
    CUSTOM_ROLE: "Custom",
}


class UnknownPermission(ValueError):
    def __init__(self, names: Iterable[str]):
        self.names = sorted(names)
        super().__init__("Unknown permission: " + ", ".join(self.names))


class UnknownRole(ValueError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"Unknown role: {name}")


def normalize(names: Iterable[str]) -> frozenset[str]:
    """Validate a list of permission names; raise UnknownPermission naming the bad ones."""
    requested = {name.strip() for name in names if name and name.strip()}
    unknown = requested - PERMISSIONS.keys()
    if unknown:
        raise UnknownPermission(unknown)
    return frozenset(requested)


def for_role(role: str) -> frozenset[str]:
    if role not in ROLE_PRESETS:
        raise UnknownRole(role)
    return ROLE_PRESETS[role]


def role_for(permissions: frozenset[str]) -> str:
    """The preset a set of permissions equals, or `custom`."""
    for role, preset in ROLE_PRESETS.items():
        if preset == permissions:
            return role
    return CUSTOM_ROLE


def effective(granted: Iterable[str]) -> frozenset[str]:
    """Granted permissions plus what they imply: write implies read."""
    result = set(granted)
    for name in list(result):
        resource, _, action = name.partition(":")
        if action == "write":
            result.add(f"{resource}:read")
    return frozenset(result)


def allows(granted: Iterable[str], required: str) -> bool:
    return required in effective(granted)


def ordered(names: Iterable[str]) -> list[str]:
    """Permissions in vocabulary order, for stable display and JSON."""
    chosen = set(names)
    return [name for name in PERMISSIONS if name in chosen]


# What a member's role lets their personal tokens do in an organization. A personal token
# never does more than its user could at the time of the request.
MEMBER_ROLE_CEILINGS: dict[str, frozenset[str]] = {
    "owner": frozenset(PERMISSIONS),
    "super_admin": frozenset(PERMISSIONS),
    "member": frozenset(
        {
            "orgs:read",
            "members:read",
            "projects:read",
            "deployments:read",
            "deployments:write",
            "tokens:read",
            "tokens:write",
        }
    ),
}
