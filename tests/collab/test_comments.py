"""Comments on features, stories, ideas, initiatives and feedback: markdown made safe, edits kept,
own comments only, @mentions that notify (in-app, and by e-mail as each person asks, batched),
followers, and the team-only rule."""

import pytest
from django.urls import reverse

from backlog import services as backlog_services
from pm import collab
from pm.choices import NotificationKind
from pm.models import Comment, CommentRevision, Notification, NotificationSettings, Watch
from tests.api import data

HTMX = {"HX-Request": "true"}


@pytest.fixture
def feature(cast):
    feature = data.feature(cast.product, cast.pm, title="Single sign-on")
    feature.product = cast.product
    return feature


def _thread_url(feature, kind="feature"):
    return reverse("comment_thread", args=["LOD", kind, feature.pk])


def _post(client, url, body):
    return client.post(url, {"body": body}, headers=HTMX)


def test_a_comment_with_a_mention_notifies_the_mentioned_teammate(cast, feature):
    response = _post(cast.client("engineer"), _thread_url(feature), "@pm can we ship **this**?")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="mention">@pm</span> can we ship <strong>this</strong>?' in html
    assert "Comment added." in response["HX-Trigger"]
    [note] = Notification.objects.filter(user=cast.pm)
    assert note.kind == NotificationKind.MENTION
    assert "mentioned you on feature “Single sign-on”" in note.message
    assert note.url.startswith(reverse("feature_detail", args=["LOD", feature.pk]) + "#comment-")
    # The author and the mentioned follow it from now on.
    assert set(Watch.objects.values_list("user__username", flat=True)) == {"engineer", "pm"}


def test_the_mentioned_teammate_sees_the_notification_in_the_bell(cast, feature):
    _post(cast.client("engineer"), _thread_url(feature), "Over to you @pm")
    page = cast.client("pm").get(reverse("notification_menu"), headers=HTMX).content.decode()
    assert "mentioned you on feature “Single sign-on”" in page


def test_stakeholders_are_never_mentioned_nor_shown_comments(cast, feature):
    _post(cast.client("engineer"), _thread_url(feature), "@stakeholder look at this")
    assert not Notification.objects.filter(user=cast.stakeholder).exists()
    stakeholder = cast.client("stakeholder")
    assert stakeholder.get(_thread_url(feature), headers=HTMX).status_code == 403
    assert _post(stakeholder, _thread_url(feature), "Me too").status_code == 403
    assert cast.client("outsider").get(_thread_url(feature), headers=HTMX).status_code == 404


def test_the_feature_page_loads_the_thread_for_the_team_only(cast, feature):
    cast.share_with_stakeholders("backlog")
    url = reverse("feature_detail", args=["LOD", feature.pk])
    assert _thread_url(feature) in cast.client("engineer").get(url).content.decode()
    page = cast.client("stakeholder").get(url)
    assert page.status_code == 200 and _thread_url(feature) not in page.content.decode()


def test_markdown_is_sanitised(cast, feature):
    body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> *ok*"
    html = _post(cast.client("pm"), _thread_url(feature), body).content.decode()
    assert "<script>alert" not in html and "javascript:" not in html and "onerror" not in html
    assert "<em>ok</em>" in html


def test_editing_keeps_the_earlier_text_and_shows_edited(cast, feature):
    client = cast.client("engineer")
    _post(client, _thread_url(feature), "Three days")
    comment = Comment.objects.get()
    response = client.post(
        reverse("comment_edit", args=[comment.pk]), {"body": "A week, @pm"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "A week" in html
    assert ">edited</summary>" in html and "Three days" in html
    assert list(CommentRevision.objects.values_list("body", flat=True)) == ["Three days"]
    # The edit's new mention notifies.
    assert Notification.objects.filter(user=cast.pm, kind=NotificationKind.MENTION).count() == 1


def test_only_the_author_edits_or_deletes(cast, feature):
    _post(cast.client("engineer"), _thread_url(feature), "Mine")
    comment = Comment.objects.get()
    for role in ("pm", "admin", "stakeholder", "outsider"):
        client = cast.client(role)
        edit = client.post(reverse("comment_edit", args=[comment.pk]), {"body": "Theirs"})
        delete = client.post(reverse("comment_delete", args=[comment.pk]))
        assert (edit.status_code, delete.status_code) == (404, 404), role
    assert Comment.objects.get().body == "Mine"


def test_an_author_who_left_the_team_can_no_longer_edit(cast, feature):
    _post(cast.client("engineer"), _thread_url(feature), "Mine")
    comment = Comment.objects.get()
    cast.engineer.memberships.update(role="stakeholder")
    response = cast.client("engineer").post(
        reverse("comment_edit", args=[comment.pk]), {"body": "Changed"}
    )
    assert response.status_code == 403


def test_deleting_removes_the_comment_and_its_history(cast, feature):
    client = cast.client("engineer")
    _post(client, _thread_url(feature), "Oops")
    comment = Comment.objects.get()
    client.post(reverse("comment_edit", args=[comment.pk]), {"body": "Oops again"})
    response = client.post(reverse("comment_delete", args=[comment.pk]), headers=HTMX)
    assert response.status_code == 200 and "No comments yet." in response.content.decode()
    assert not Comment.objects.exists() and not CommentRevision.objects.exists()


def test_followers_hear_of_new_comments_and_can_unfollow_in_one_click(cast, feature):
    _post(cast.client("engineer"), _thread_url(feature), "First")
    _post(cast.client("pm"), _thread_url(feature), "Second")
    [note] = Notification.objects.filter(user=cast.engineer)
    assert note.kind == NotificationKind.COMMENT and "commented on feature" in note.message
    response = cast.client("engineer").post(
        reverse("watch_toggle", args=["LOD", "feature", feature.pk]),
        {"following": "0"},
        headers=HTMX,
    )
    assert response.status_code == 200 and ">Follow</button>" in response.content.decode()
    _post(cast.client("pm"), _thread_url(feature), "Third")
    assert Notification.objects.filter(user=cast.engineer).count() == 1


def test_a_story_assignee_follows_it_unless_they_unfollow(cast, feature):
    story = data.story(feature, cast.pm)
    backlog_services.story_update(
        story=story, data={"assignee": cast.engineer}, expected_version=story.version, actor=cast.pm
    )
    Notification.objects.all().delete()
    url = _thread_url(story, kind="story")
    _post(cast.client("pm"), url, "Blocked on design")
    assert Notification.objects.filter(user=cast.engineer, kind="comment").count() == 1
    cast.client("engineer").post(
        reverse("watch_toggle", args=["LOD", "story", story.pk]), {"following": "0"}
    )
    _post(cast.client("pm"), url, "Unblocked")
    assert Notification.objects.filter(user=cast.engineer, kind="comment").count() == 1


@pytest.mark.parametrize("kind", ["idea", "initiative", "feedback"])
def test_ideas_initiatives_and_feedback_take_comments(cast, kind):
    from roadmap.models import Initiative
    from tests.feedback.factories import FeedbackItemFactory

    target = {
        "idea": lambda: data.idea(cast.product, cast.pm),
        "initiative": lambda: Initiative.objects.create(product=cast.product, title="Q3 bet"),
        "feedback": lambda: FeedbackItemFactory(product=cast.product),
    }[kind]()
    response = _post(cast.client("pm"), _thread_url(target, kind=kind), "Noted")
    assert response.status_code == 200 and "Noted" in response.content.decode()
    assert Comment.objects.get().object_id == target.pk


def test_a_comment_on_another_products_object_is_a_404(cast):
    from tests.factories import ProductFactory

    other = ProductFactory(workspace=cast.workspace, key="OTH")
    feature = data.feature(other, cast.pm)
    response = _post(cast.client("pm"), _thread_url(feature), "Sneaky")  # under LOD's key
    assert response.status_code == 404 and not Comment.objects.exists()


def test_an_unknown_kind_is_a_404(cast, feature):
    url = reverse("comment_thread", args=["LOD", "customer", feature.pk])
    assert cast.client("pm").get(url, headers=HTMX).status_code == 404


# --- hostile input ------------------------------------------------------------------------------


def test_a_nul_in_a_comment_is_refused(cast, feature):
    response = _post(cast.client("pm"), _thread_url(feature), "a\x00b")
    assert response.status_code == 400 and not Comment.objects.exists()


def test_a_huge_comment_gets_an_error_beside_the_field(cast, feature):
    response = _post(cast.client("pm"), _thread_url(feature), "x" * 200_000)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value has at most 10000 characters" in html
    assert not Comment.objects.exists()


def test_an_empty_comment_gets_an_error(cast, feature):
    response = _post(cast.client("pm"), _thread_url(feature), "   ")
    assert "This field is required." in response.content.decode()
    assert not Comment.objects.exists()


# --- @-autocomplete -----------------------------------------------------------------------------


def test_mention_autocomplete_lists_teammates_only(cast):
    url = reverse("mention_suggest", args=["LOD"])
    client = cast.client("pm")
    html = client.get(url, {"body": "Hey @"}, headers=HTMX).content.decode()
    for name in ("admin", "engineer", "pm"):
        assert f'data-mention="{name}"' in html
    assert "stakeholder" not in html and "outsider" not in html
    html = client.get(url, {"body": "Hey @eng"}, headers=HTMX).content.decode()
    assert 'data-mention="engineer"' in html and 'data-mention="admin"' not in html
    assert client.get(url, {"body": "mail me@eng"}, headers=HTMX).content.strip() == b""


# --- query counts -------------------------------------------------------------------------------


def _fill_thread(cast, feature, n):
    for i in range(n):
        comment = collab.comment_create(
            kind="feature", target=feature, body=f"Comment {i} for @pm", actor=cast.engineer
        )
        collab.comment_update(
            comment=comment, kind="feature", target=feature, body=f"Edited {i}", actor=cast.engineer
        )


@pytest.mark.parametrize("n", [2, 25])
def test_a_thread_takes_the_same_queries_at_any_length(
    cast, feature, n, django_assert_max_num_queries
):
    _fill_thread(cast, feature, n)
    client = cast.client("pm")
    client.get(_thread_url(feature), headers=HTMX)  # warm the content-type cache
    # session, user, product, memberships, the feature, comments, their revisions, follows,
    # followers' memberships
    with django_assert_max_num_queries(10):
        response = client.get(_thread_url(feature), headers=HTMX)
    assert response.content.decode().count('data-testid="comment"') == n


# --- e-mails ------------------------------------------------------------------------------------


def test_mentions_in_a_burst_are_e_mailed_once_together(
    cast, feature, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        for text in ("@pm one", "@pm two", "@pm three"):
            collab.comment_create(kind="feature", target=feature, body=text, actor=cast.engineer)
    assert queued and mailoutbox == []
    assert collab.send_notification_emails(user_id=cast.pm.pk) == 3
    assert collab.send_notification_emails(user_id=cast.pm.pk) == 0  # a later run: nothing left
    [mail] = mailoutbox
    assert mail.to == [cast.pm.email] and mail.subject == "3 new notifications"
    assert mail.body.count("mentioned you on feature “Single sign-on”") == 3
    assert "http://testserver/p/LOD/features/" in mail.body


def test_a_mention_read_before_the_e_mail_goes_is_not_e_mailed(
    cast, feature, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        collab.comment_create(kind="feature", target=feature, body="@pm hi", actor=cast.engineer)
    Notification.objects.update(read_at="2026-01-01T00:00:00Z")
    assert collab.send_notification_emails(user_id=cast.pm.pk) == 0
    assert mailoutbox == []


def test_each_person_s_settings_decide_the_e_mails(
    cast, feature, mailoutbox, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(user=cast.pm, email_mentions=False)
    NotificationSettings.objects.create(user=cast.admin, email_comments=True)
    collab.watch_set(user=cast.admin, kind="feature", target=feature, following=True)
    with django_capture_on_commit_callbacks(execute=True):
        collab.comment_create(kind="feature", target=feature, body="@pm hi", actor=cast.engineer)
    # Tasks run in-process here: on commit, each due e-mail went at once.
    assert [m.to for m in mailoutbox] == [[cast.admin.email]]
    assert "commented on feature" in mailoutbox[0].body
    assert Notification.objects.filter(user=cast.pm).exists()  # still notified in the app


def test_notification_settings_page_saves_the_choices(cast):
    client = cast.client("engineer")
    page = client.get(reverse("notification_settings"))
    assert page.status_code == 200 and "E-mail me when someone mentions me" in page.content.decode()
    response = client.post(reverse("notification_settings"), {"email_comments": "on"}, headers=HTMX)
    assert response.status_code == 200
    saved = NotificationSettings.objects.get(user=cast.engineer)
    assert (saved.email_mentions, saved.email_comments, saved.daily_unread_mentions) == (
        False,
        True,
        False,
    )
