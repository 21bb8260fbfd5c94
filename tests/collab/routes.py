"""Role-matrix entries for comments, following, mentions, notification settings and global search
(see tests/test_role_matrix.py). Comments are the team's: stakeholders are refused (403)."""

from pm.choices import Role
from pm.collab import comment_create
from tests.api import data
from tests.routing import SIGNED_IN, Route


def _thread(cast):
    feature = data.feature(cast.product, cast.pm)
    return {"key": cast.product.key, "kind": "feature", "object_id": feature.pk}


def _comment(cast):
    feature = data.feature(cast.product, cast.pm)
    feature.product = cast.product
    comment = comment_create(kind="feature", target=feature, body="A thought", actor=cast.admin)
    return {"pk": comment.pk}


ROUTES: dict[str, Route] = {
    "comment_thread": Route(Role.ENGINEER, kwargs=_thread, methods=("get", "post")),
    # Your own comments only (anyone else's is a 404): tests/collab/test_comments.py refuses the
    # other roles and people; the matrix signs in the comment's author's peers as the admin.
    "comment_edit": Route(SIGNED_IN, kwargs=_comment, methods=("get", "post")),
    "comment_delete": Route(SIGNED_IN, kwargs=_comment, methods=("post",)),
    "watch_toggle": Route(Role.ENGINEER, kwargs=_thread, methods=("post",)),
    "mention_suggest": Route(Role.ENGINEER),
    "notification_settings": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("get", "post")),
    "search": Route(SIGNED_IN, kwargs=lambda c: {}),
    "search_quick": Route(SIGNED_IN, kwargs=lambda c: {}),
}
