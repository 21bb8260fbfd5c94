"""Development tools in: GitHub and GitLab webhooks per product.

Each product has its own receiver URL (`/hooks/github/<KEY>/`, `/hooks/gitlab/<KEY>/`). GitHub
signs the body with the product's secret (`X-Hub-Signature-256: sha256=<hmac>`); GitLab sends the
product's token (`X-Gitlab-Token`). Commits, branches and pull/merge requests whose message,
name or title mention one of the product's story keys (`LOD-42`) are linked to those stories
(idempotently: a delivery received twice links once). A merged pull request moves its stories
to done when the product says so (`DevSettings.done_on_merge`)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from django.db import transaction

from backlog.choices import StoryStatus
from backlog.models import UserStory
from hooks.models import DevLink, DevSettings
from pm.models import Product

log = logging.getLogger(__name__)


def dev_settings(product: Product) -> DevSettings:
    return DevSettings.objects.get_or_create(product=product)[0]


def github_signature_ok(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").strip().encode())


def gitlab_token_ok(token: str, header: str) -> bool:
    return hmac.compare_digest(token.encode(), (header or "").encode())


@dataclass
class Mention:
    kind: str
    repository: str
    external_id: str
    title: str
    url: str
    author: str
    state: str
    text: str  # where story keys are looked for


def _keys_pattern(product: Product) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(product.key)}-(\d+)(?!\d)", re.IGNORECASE)


def _branch_mention(repository: str, branch: str, url: str, author: str) -> Mention:
    return Mention(DevLink.Kind.BRANCH, repository, branch, branch, url, author, "", branch)


def _branch(ref: str) -> str:
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""


def github_mentions(event: str, payload: dict) -> list[Mention]:
    repo = (payload.get("repository") or {}).get("full_name", "")
    repo_url = (payload.get("repository") or {}).get("html_url", "")
    found: list[Mention] = []
    if event == "push":
        branch = _branch(payload.get("ref", ""))
        if branch and not payload.get("deleted"):
            found.append(
                _branch_mention(
                    repo,
                    branch,
                    f"{repo_url}/tree/{branch}" if repo_url else "",
                    (payload.get("pusher") or {}).get("name") or "",
                )
            )
        for commit in payload.get("commits") or []:
            message = commit.get("message") or ""
            found.append(
                Mention(
                    DevLink.Kind.COMMIT,
                    repo,
                    commit.get("id", "")[:40],
                    message.splitlines()[0][:300] if message else "",
                    commit.get("url", ""),
                    ((commit.get("author") or {}).get("username") or "")
                    or ((commit.get("author") or {}).get("name") or ""),
                    "",
                    message,
                )
            )
    elif event == "create" and payload.get("ref_type") == "branch":
        branch = payload.get("ref", "")
        found.append(
            _branch_mention(
                repo,
                branch,
                f"{repo_url}/tree/{branch}" if repo_url else "",
                (payload.get("sender") or {}).get("login", ""),
            )
        )
    elif event == "pull_request":
        pr = payload.get("pull_request") or {}
        state = DevLink.State.OPEN
        if pr.get("merged") or pr.get("merged_at"):
            state = DevLink.State.MERGED
        elif pr.get("state") == "closed":
            state = DevLink.State.CLOSED
        head = (pr.get("head") or {}).get("ref", "")
        found.append(
            Mention(
                DevLink.Kind.PULL_REQUEST,
                repo,
                str(pr.get("number", "")),
                (pr.get("title") or "")[:300],
                pr.get("html_url", ""),
                (pr.get("user") or {}).get("login", ""),
                state,
                "\n".join([pr.get("title") or "", pr.get("body") or "", head]),
            )
        )
    return found


def gitlab_mentions(event: str, payload: dict) -> list[Mention]:
    project = payload.get("project") or {}
    repo = project.get("path_with_namespace", "")
    web = project.get("web_url", "")
    kind = payload.get("object_kind", "")
    found: list[Mention] = []
    if kind == "push":
        branch = _branch(payload.get("ref", ""))
        deleted = payload.get("after", "").strip("0") == ""
        if branch and not deleted:
            found.append(
                _branch_mention(
                    repo,
                    branch,
                    f"{web}/-/tree/{branch}" if web else "",
                    payload.get("user_username", ""),
                )
            )
        for commit in payload.get("commits") or []:
            message = commit.get("message") or ""
            found.append(
                Mention(
                    DevLink.Kind.COMMIT,
                    repo,
                    commit.get("id", "")[:40],
                    (commit.get("title") or message.splitlines()[0] if message else "")[:300],
                    commit.get("url", ""),
                    (commit.get("author") or {}).get("name", ""),
                    "",
                    message,
                )
            )
    elif kind == "merge_request":
        mr = payload.get("object_attributes") or {}
        state = {
            "merged": DevLink.State.MERGED,
            "closed": DevLink.State.CLOSED,
        }.get(mr.get("state", ""), DevLink.State.OPEN)
        found.append(
            Mention(
                DevLink.Kind.PULL_REQUEST,
                repo,
                str(mr.get("iid", "")),
                (mr.get("title") or "")[:300],
                mr.get("url", ""),
                (payload.get("user") or {}).get("username", ""),
                state,
                "\n".join(
                    [
                        mr.get("title") or "",
                        mr.get("description") or "",
                        mr.get("source_branch") or "",
                    ]
                ),
            )
        )
    return found


def _mark_done(story: UserStory, *, provider: str, mention: Mention) -> None:
    """The story to done, in its history as the integration's doing (no user acted)."""
    from pm.services import versioned_update

    current = UserStory.objects.select_for_update().get(pk=story.pk)
    label = dict(DevLink.Provider.choices)[provider]
    versioned_update(
        instance=current,
        data={"status": StoryStatus.DONE},
        expected_version=current.version,
        actor=None,
        # The history says how, not which pull request: that is the team's (the panel).
        extra_changes={"via": [None, f"a merged {label} pull request"]},
    )


@transaction.atomic
def link(*, product: Product, provider: str, mentions: list[Mention]) -> dict:
    """Link each mention to the stories it names; move stories of merged pull requests to done
    when the product says so. Returns {"linked": n, "done": [story keys]}."""
    pattern = _keys_pattern(product)
    numbers = {int(n) for m in mentions for n in pattern.findall(m.text)}
    if not numbers:
        return {"linked": 0, "done": []}
    stories = {
        s.number: s
        for s in UserStory.objects.filter(product=product, number__in=numbers).select_related(
            "product"
        )
    }
    settings_row = dev_settings(product)
    linked, done = 0, []
    for mention in mentions:
        for number in sorted({int(n) for n in pattern.findall(mention.text)}):
            story = stories.get(number)
            if story is None:
                continue
            _row, created = DevLink.objects.update_or_create(
                story=story,
                provider=provider,
                repository=mention.repository[:200],
                kind=mention.kind,
                external_id=mention.external_id[:200],
                defaults={
                    "product": product,
                    "title": mention.title[:300],
                    "url": mention.url[:500],
                    "author": mention.author[:100],
                    "state": mention.state,
                },
            )
            linked += int(created)
            if (
                mention.kind == DevLink.Kind.PULL_REQUEST
                and mention.state == DevLink.State.MERGED
                and settings_row.done_on_merge
                and story.status != StoryStatus.DONE
            ):
                _mark_done(story, provider=provider, mention=mention)
                story.status = StoryStatus.DONE
                done.append(story.key)
    return {"linked": linked, "done": done}
