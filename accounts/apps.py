from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from allauth.account.signals import password_changed, password_reset
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from accounts import checks  # noqa: F401  (registers the SSO settings check)
        from accounts.reauthentication import note_sign_in
        from accounts.sessions import (
            end_other_sessions_on_password_change,
            end_sessions_on_sign_out,
        )

        user_logged_in.connect(note_sign_in, dispatch_uid="note-sign-in")
        user_logged_out.connect(end_sessions_on_sign_out, dispatch_uid="end-sessions-on-sign-out")
        for signal in (password_changed, password_reset):
            signal.connect(end_other_sessions_on_password_change, dispatch_uid=f"end-{id(signal)}")
