from oauth2_provider.oauth2_validators import OAuth2Validator

UNVERIFIED_GROUP = "unverified-email"


class Validator(OAuth2Validator):
    """E-mail, whether it is verified (not for members of UNVERIFIED_GROUP) and name, in the
    ID token and from userinfo."""

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": not user.groups.filter(name=UNVERIFIED_GROUP).exists(),
            "name": user.get_full_name(),
        }
