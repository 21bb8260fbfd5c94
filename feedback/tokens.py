"""Signed links for e-mail votes on the ideas portal: nothing secret is stored, the signature
(SECRET_KEY, a salt of its own) proves the link came from us, and it expires."""

from django.core import signing

from feedback.models import PortalVote

SALT = "feedback.portal-vote"
MAX_AGE = 7 * 24 * 60 * 60


def vote_token(vote: PortalVote) -> str:
    return signing.dumps({"v": vote.pk, "e": vote.email}, salt=SALT, compress=True)


def vote_from_token(token: str) -> PortalVote | None:
    """The vote the link is for, or None when the link is forged, expired or out of date."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("v"), int):
        return None
    vote = (
        PortalVote.objects.select_related("post__product", "post__idea")
        .filter(pk=data["v"], email=data.get("e") or "-")
        .first()
    )
    return vote
