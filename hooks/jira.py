"""A one-way import of Jira issues from the JSON of Jira's REST search (`/rest/api/2/search`
or `/rest/api/3/search`): epics become features, stories, tasks and bugs become user stories
under their epic's feature (or under one "Imported from Jira" feature), statuses mapped by name
and, failing that, by Jira's status category. Each row keeps the URL of its Jira issue, which is
how an issue imported before is recognised (and left alone)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from backlog.choices import FeatureStatus, StoryStatus
from backlog.models import Feature, UserStory
from pm.models import Product

STORY_STATUS_BY_NAME = {
    "to do": StoryStatus.TODO,
    "open": StoryStatus.TODO,
    "backlog": StoryStatus.TODO,
    "selected for development": StoryStatus.READY,
    "ready": StoryStatus.READY,
    "ready for development": StoryStatus.READY,
    "in progress": StoryStatus.IN_PROGRESS,
    "in development": StoryStatus.IN_PROGRESS,
    "in review": StoryStatus.IN_REVIEW,
    "code review": StoryStatus.IN_REVIEW,
    "review": StoryStatus.IN_REVIEW,
    "done": StoryStatus.DONE,
    "closed": StoryStatus.DONE,
    "resolved": StoryStatus.DONE,
}
STORY_STATUS_BY_CATEGORY = {
    "new": StoryStatus.TODO,
    "indeterminate": StoryStatus.IN_PROGRESS,
    "done": StoryStatus.DONE,
}
FEATURE_STATUS_BY_CATEGORY = {
    "new": FeatureStatus.BACKLOG,
    "indeterminate": FeatureStatus.IN_PROGRESS,
    "done": FeatureStatus.SHIPPED,
}
EPIC_LINK_FIELDS = ("customfield_10014", "customfield_10008")  # Jira Cloud / Server "Epic Link"
FALLBACK_FEATURE = "Imported from Jira"


@dataclass
class Result:
    features: list[str] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # imported before
    ignored: list[str] = field(default_factory=list)  # sub-tasks and unknown types

    @property
    def summary(self) -> str:
        return summary(self)


def summary(result: Result | None) -> str:
    if result is None:
        return ""
    parts = [
        f"{len(result.features)} feature{'s' if len(result.features) != 1 else ''}",
        f"{len(result.stories)} stor{'ies' if len(result.stories) != 1 else 'y'}",
    ]
    text = f"Imported {parts[0]} and {parts[1]} from Jira."
    if result.skipped:
        text += f" {len(result.skipped)} imported before, left alone."
    if result.ignored:
        text += f" {len(result.ignored)} sub-tasks or other types not imported."
    return text


def issue_url(issue: dict) -> str:
    """https://<site>/browse/<KEY>, from the issue's REST `self` link."""
    parts = urlsplit(str(issue.get("self") or ""))
    key = str(issue.get("key") or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or not key:
        raise ValidationError(f"Issue {key or '?'} has no usable `self` link.")
    return f"{parts.scheme}://{parts.netloc}/browse/{key}"


def _text(value: Any) -> str:
    """Jira v2 descriptions are text; v3 ones Atlassian Document Format: keep the text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        own = value.get("text", "") if value.get("type") == "text" else ""
        inner = [_text(c) for c in value.get("content") or []]
        sep = "\n" if value.get("type") in ("doc", "paragraph") else ""
        return own + sep.join(t for t in inner if t)
    return ""


def _status(fields: dict) -> tuple[str, str]:
    status = fields.get("status") or {}
    return (
        str(status.get("name") or "").strip().lower(),
        str((status.get("statusCategory") or {}).get("key") or ""),
    )


def _parse(data: bytes | str) -> list[dict]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("The file is not JSON.") from exc
    issues = document.get("issues") if isinstance(document, dict) else None
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise ValidationError("Not a Jira search result: it has no list of `issues`.")
    return issues


@transaction.atomic
def import_search(*, product: Product, data: bytes | str, actor: User) -> Result:
    from backlog import services as backlog

    issues = _parse(data)
    result = Result()
    existing = set(
        Feature.objects.filter(product=product)
        .exclude(jira_url="")
        .values_list("jira_url", flat=True)
    ) | set(
        UserStory.objects.filter(product=product)
        .exclude(jira_url="")
        .values_list("jira_url", flat=True)
    )
    by_url = {f.jira_url: f for f in Feature.objects.filter(product=product).exclude(jira_url="")}
    epics = [
        i for i in issues if ((i.get("fields") or {}).get("issuetype") or {}).get("name") == "Epic"
    ]
    others = [i for i in issues if i not in epics]
    epic_features: dict[str, Feature | None] = {}
    for issue in epics:
        fields = issue.get("fields") or {}
        url = issue_url(issue)
        if url in existing:
            result.skipped.append(issue["key"])
            epic_features[issue["key"]] = by_url.get(url)
            continue
        _name, category = _status(fields)
        epic = backlog.feature_create(
            product=product,
            data={
                "title": str(fields.get("summary") or issue["key"])[:200],
                "description": _text(fields.get("description")),
                "status": FEATURE_STATUS_BY_CATEGORY.get(category, FeatureStatus.BACKLOG),
                "jira_url": url,
            },
            actor=actor,
        )
        epic_features[issue["key"]] = epic
        result.features.append(issue["key"])
    fallback: Feature | None = None
    for issue in others:
        fields = issue.get("fields") or {}
        kind = fields.get("issuetype") or {}
        if kind.get("subtask") or kind.get("name") not in ("Story", "Task", "Bug"):
            result.ignored.append(str(issue.get("key")))
            continue
        url = issue_url(issue)
        if url in existing:
            result.skipped.append(issue["key"])
            continue
        epic_key = (fields.get("parent") or {}).get("key") or next(
            (fields.get(f) for f in EPIC_LINK_FIELDS if isinstance(fields.get(f), str)), None
        )
        feature: Feature | None = epic_features.get(epic_key) if epic_key else None
        if feature is None and epic_key:
            feature = Feature.objects.filter(
                product=product, jira_url__endswith=f"/browse/{epic_key}"
            ).first()
        if feature is None:
            if fallback is None:
                fallback = Feature.objects.filter(product=product, title=FALLBACK_FEATURE).first()
                if fallback is None:
                    fallback = backlog.feature_create(
                        product=product, data={"title": FALLBACK_FEATURE}, actor=actor
                    )
            feature = fallback
        name, category = _status(fields)
        status = STORY_STATUS_BY_NAME.get(name) or STORY_STATUS_BY_CATEGORY.get(
            category, StoryStatus.TODO
        )
        backlog.story_create(
            feature=feature,
            data={
                "title": str(fields.get("summary") or issue["key"])[:200],
                "i_want": _text(fields.get("description")),
                "status": status,
                "jira_url": url,
            },
            actor=actor,
        )
        result.stories.append(issue["key"])
    return result
