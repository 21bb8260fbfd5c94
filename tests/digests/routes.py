"""Role-matrix entries for digests and notifications (see tests/test_role_matrix.py)."""

from pm.choices import Role
from tests.routing import PUBLIC, SIGNED_IN, Route

ROUTES = {
    "digest_preview": Route(Role.STAKEHOLDER, methods=("get", "post")),
    "digest_email_preview": Route(Role.STAKEHOLDER),
    "digest_unsubscribe": Route(PUBLIC, kwargs=lambda c: {"token": "forged"}),
    "notification_list": Route(SIGNED_IN, kwargs=lambda c: {}),
    "notification_menu": Route(SIGNED_IN, kwargs=lambda c: {}),
    "notification_read_all": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("post",)),
    "notification_mark_read": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("post",)),
}
