"""Role-matrix entries for the backlog's routes (see tests/test_role_matrix.py)."""

from pm.choices import Role
from tests.backlog.factories import FeatureFactory, IdeaFactory, SprintFactory, StoryFactory
from tests.routing import Route


def _key(cast):
    return {"key": cast.product.key}


def _feature(cast):
    return {"key": cast.product.key, "pk": FeatureFactory(product=cast.product).pk}


def _released(cast):
    """A shipped feature: stakeholders read released features (pm.visibility)."""
    feature = FeatureFactory(product=cast.product, status="shipped")
    return {"key": cast.product.key, "pk": feature.pk}


def _idea(cast):
    return {"key": cast.product.key, "pk": IdeaFactory(product=cast.product).pk}


def _sprint(cast):
    return {"key": cast.product.key, "pk": SprintFactory(product=cast.product).pk}


def _retro_item(cast):
    from backlog import retro

    sprint = SprintFactory(product=cast.product)
    item = retro.retro_add(sprint=sprint, column="ideas", text="Pair more", actor=cast.engineer)
    return {"key": cast.product.key, "pk": sprint.pk, "item": item.pk}


def _action_item(cast):
    from backlog import retro

    sprint = SprintFactory(product=cast.product)
    action = retro.action_add(sprint=sprint, text="Write criteria", owner=None, actor=cast.pm)
    return {"key": cast.product.key, "pk": sprint.pk, "action": action.pk}


def _story(cast):
    story = StoryFactory(
        feature__product=cast.product, acceptance_criteria=[{"text": "Given A", "done": False}]
    )
    return {"key": cast.product.key, "number": story.number}


def _criterion(cast):
    return {**_story(cast), "index": 0}


def _custom_field(cast):
    from backlog.models import CustomField

    field = CustomField.objects.create(
        product=cast.product, applies_to="feature", name="Segment", kind="text"
    )
    return {"key": cast.product.key, "pk": field.pk}


GET_POST = ("get", "post")
POST = ("post",)

ROUTES: dict[str, Route] = {
    # ideas
    # Ideas, the backlog, stories and sprints are sections stakeholders do not browse unless
    # the workspace shares them (pm.visibility; tests/test_visibility_sections.py): 403.
    "ideas": Route(Role.ENGINEER, kwargs=_key),
    "ideas_export": Route(Role.ENGINEER, kwargs=_key),
    "idea_new": Route(Role.PM, kwargs=_key, methods=GET_POST),
    "idea_detail": Route(Role.ENGINEER, kwargs=_idea),
    "idea_edit": Route(Role.PM, kwargs=_idea, methods=GET_POST),
    "idea_accept": Route(Role.PM, kwargs=_idea, methods=POST),
    "idea_vote": Route(Role.ENGINEER, kwargs=_idea, methods=POST),
    "idea_review": Route(Role.PM, kwargs=_idea, methods=POST),
    "idea_decline": Route(Role.PM, kwargs=_idea, methods=GET_POST),
    "idea_merge": Route(Role.PM, kwargs=_idea, methods=GET_POST),
    # the backlog
    "backlog": Route(Role.ENGINEER, kwargs=_key),
    "feature_new": Route(Role.PM, kwargs=_key, methods=GET_POST),
    "backlog_export": Route(Role.ENGINEER, kwargs=_key),
    "backlog_settings": Route(Role.PM, kwargs=_key, methods=POST),
    "backlog_sort_by_score": Route(Role.PM, kwargs=_key, methods=POST),
    "backlog_bulk_status": Route(Role.PM, kwargs=_key, methods=POST),
    "feature_row": Route(Role.ENGINEER, kwargs=_feature),
    "feature_score_edit": Route(Role.PM, kwargs=_feature, methods=GET_POST),
    "feature_move": Route(Role.PM, kwargs=_feature, methods=POST),
    # features and stories
    "feature_detail": Route(Role.STAKEHOLDER, kwargs=_released),
    "feature_edit": Route(Role.PM, kwargs=_feature, methods=GET_POST),
    "story_new": Route(Role.PM, kwargs=_feature, methods=GET_POST),
    "story_detail": Route(Role.ENGINEER, kwargs=_story),
    "story_edit": Route(Role.ENGINEER, kwargs=_story, methods=GET_POST),
    "story_status": Route(Role.ENGINEER, kwargs=_story, methods=POST),
    "story_move": Route(Role.PM, kwargs=_story, methods=POST),
    "story_criterion": Route(Role.ENGINEER, kwargs=_criterion, methods=POST),
    # sprints
    "sprints": Route(Role.ENGINEER, kwargs=_key),
    "sprint_new": Route(Role.PM, kwargs=_key, methods=GET_POST),
    "sprint_board": Route(Role.ENGINEER, kwargs=_sprint),
    "sprint_stories_export": Route(Role.ENGINEER, kwargs=_sprint),
    "sprint_edit": Route(Role.PM, kwargs=_sprint, methods=GET_POST),
    "sprint_plan": Route(Role.PM, kwargs=_sprint),
    "sprint_plan_story": Route(Role.PM, kwargs=_sprint, methods=POST),
    "sprint_review": Route(Role.ENGINEER, kwargs=_sprint),
    "sprint_retro": Route(Role.ENGINEER, kwargs=_sprint),
    "retro_item_add": Route(Role.ENGINEER, kwargs=_sprint, methods=POST),
    "retro_item_vote": Route(Role.ENGINEER, kwargs=_retro_item, methods=POST),
    "retro_item_delete": Route(Role.ENGINEER, kwargs=_retro_item, methods=POST),
    "action_add": Route(Role.ENGINEER, kwargs=_sprint, methods=POST),
    "action_done": Route(Role.ENGINEER, kwargs=_action_item, methods=POST),
    # custom fields: PMs define them; values are edited by whoever edits the item (engineers
    # edit stories)
    "custom_fields": Route(Role.PM, kwargs=_key, methods=GET_POST),
    "custom_field_edit": Route(Role.PM, kwargs=_custom_field, methods=GET_POST),
    "custom_field_move": Route(Role.PM, kwargs=_custom_field, methods=POST),
    "custom_field_archive": Route(Role.PM, kwargs=_custom_field, methods=POST),
    "feature_values": Route(Role.PM, kwargs=_feature, methods=GET_POST),
    "idea_values": Route(Role.PM, kwargs=_idea, methods=GET_POST),
    "story_values": Route(Role.ENGINEER, kwargs=_story, methods=GET_POST),
}
