"""System checks of the production configuration (`manage.py check --deploy`)."""

from django.core.checks import Error, Tags, register


@register(Tags.mail, deploy=True)
def check_mail_server_configured(app_configs, **kwargs):
    """Production without EMAIL_HOST sends nothing (pm.mail.UnconfiguredBackend): say so before
    the first invitation is lost."""
    from pm.mail import email_configured

    if email_configured():
        return []
    return [
        Error(
            "No mail server is configured (EMAIL_HOST is unset): invitations and digests are "
            "not sent.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD).",
            id="lodestar.E001",
        )
    ]
