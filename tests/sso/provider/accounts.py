"""The test provider's client application and people (plain values: Tokendesk's tests import
them without loading the provider's Django)."""

CLIENT_ID = "tokendesk-tests"
CLIENT_SECRET = "tokendesk-tests-client-secret"
PASSWORD = "provider-password"
CALLBACK = "/accounts/oidc/idp/login/callback/"
# (username = e-mail, full name, e-mail verified at the provider)
USERS = [
    ("new.person@allowed.test", "New Person", True),
    ("stranger@elsewhere.test", "Stranger", True),
    ("existing@elsewhere.test", "Existing Person", True),
    ("unverified@allowed.test", "Unverified Person", False),
]
