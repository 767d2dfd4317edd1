import pytest

from tokens import permissions as perms


def test_write_implies_read():
    assert perms.allows({"deployments:write"}, "deployments:read")
    assert perms.allows({"deployments:write"}, "deployments:write")
    assert not perms.allows({"deployments:read"}, "deployments:write")
    assert not perms.allows({"deployments:write"}, "projects:read")


def test_the_default_is_projects_read_and_deployments_write():
    assert {"projects:read", "deployments:write"} == perms.DEFAULT_PERMISSIONS


def test_role_presets():
    assert perms.for_role("ci") == {"projects:read", "deployments:write"}
    assert perms.for_role("read_only") == {p for p in perms.PERMISSIONS if p.endswith(":read")}
    assert perms.for_role("admin") == set(perms.PERMISSIONS)
    with pytest.raises(perms.UnknownRole):
        perms.for_role("root")


def test_unknown_permissions_are_named():
    with pytest.raises(perms.UnknownPermission) as caught:
        perms.normalize(["projects:read", "rockets:launch", "zz:top"])
    assert caught.value.names == ["rockets:launch", "zz:top"]


def test_normalize_strips_and_drops_blanks():
    assert perms.normalize([" projects:read ", "", "projects:read"]) == {"projects:read"}


def test_role_for_recognizes_presets():
    assert perms.role_for(perms.ROLE_PRESETS["admin"]) == "admin"
    assert perms.role_for(frozenset({"audit:read"})) == "custom"
