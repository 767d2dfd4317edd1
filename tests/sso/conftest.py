from tests.sso.idp import identity_provider, sso_settings  # noqa: F401  (fixtures)
