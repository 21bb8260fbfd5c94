"""The demo feedback for `load_demo`: 30 customers, 150 feedback items over the last four months,
two research studies and an ideas portal. Items are linked (as insights) to whatever demo
features and ideas the backlog has, by the same matching the triage inbox suggests with.

Idempotent: customers are found by name, items by their text, studies by title; a second run
adds nothing."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Feature, Idea
from feedback import matching, selectors
from feedback.choices import (
    FeedbackStatus,
    Importance,
    PostStatus,
    Sentiment,
    Source,
    StudyKind,
    StudyStatus,
)
from feedback.models import (
    Customer,
    FeedbackItem,
    PortalPost,
    PortalSettings,
    PortalVote,
    ResearchStudy,
)
from feedback.services.customers import customer_create
from feedback.services.insights import insight_create
from feedback.services.items import feedback_create, feedback_set_status
from feedback.services.portal import portal_post_publish, portal_settings_update
from feedback.services.studies import study_add_finding, study_create
from pm.choices import Role

# (name, segment, plan, ARR)
CUSTOMERS = [
    ("Northwind Analytics", "Enterprise", "Enterprise", 184000),
    ("Globex Health", "Enterprise", "Enterprise", 152000),
    ("Initech Payments", "Enterprise", "Enterprise", 138500),
    ("Umbrella Logistics", "Enterprise", "Enterprise", 121000),
    ("Stark Mobility", "Enterprise", "Enterprise", 98000),
    ("Wayne Learning", "Enterprise", "Business", 87500),
    ("Hooli Cloud", "Mid-market", "Business", 64000),
    ("Vandelay Imports", "Mid-market", "Business", 52000),
    ("Soylent Foods", "Mid-market", "Business", 48500),
    ("Cyberdyne Robotics", "Mid-market", "Business", 45000),
    ("Tyrell Genetics", "Mid-market", "Growth", 38000),
    ("Pied Piper", "Mid-market", "Growth", 36000),
    ("Aperture Labs", "Mid-market", "Growth", 33500),
    ("Oscorp Energy", "Mid-market", "Growth", 31000),
    ("Massive Dynamic", "Mid-market", "Growth", 29000),
    ("Dunder Paper", "SMB", "Growth", 14400),
    ("Bluth Properties", "SMB", "Growth", 12000),
    ("Prestige Worldwide", "SMB", "Growth", 10800),
    ("Los Pollos Delivery", "SMB", "Starter", 7200),
    ("Gringotts Ledger", "SMB", "Starter", 6900),
    ("Monsters Recruiting", "SMB", "Starter", 6000),
    ("Acme Anvils", "SMB", "Starter", 5400),
    ("Sterling Cooper Digital", "SMB", "Starter", 4800),
    ("Krusty Kitchens", "SMB", "Starter", 3600),
    ("Wonka Subscriptions", "SMB", "Starter", 3600),
    ("Nakatomi Trading", "Enterprise", "Enterprise", 112000),
    ("Zorg Industries", "Mid-market", "Business", 41000),
    ("Duff Events", "SMB", "Growth", 9600),
    ("Ollivander Retail", "SMB", "Starter", 4200),
    ("Spacely Sprockets", "Mid-market", "Growth", 27500),
]

# (topic text, sentiment). Each is said by several customers, with different context lines.
TOPICS = [
    (
        "Our engineers live in Jira; copying story status back and forth by hand is a chore. "
        "We need a two-way Jira sync.",
        Sentiment.NEGATIVE,
    ),
    (
        "Could a story's status follow its branch and merge request in GitLab? Git integration "
        "would save our leads a lot of clicking.",
        Sentiment.NEUTRAL,
    ),
    (
        "We'd love Slack notifications in our product channel whenever a feature ships or new "
        "feedback arrives.",
        Sentiment.NEUTRAL,
    ),
    (
        "Our security team will not approve the tool until people sign in with Okta single "
        "sign-on (SAML).",
        Sentiment.NEGATIVE,
    ),
    (
        "The CFO wants the prioritised backlog in a spreadsheet every month; please let us "
        "export it to CSV or Excel.",
        Sentiment.NEUTRAL,
    ),
    (
        "Sharing the roadmap with a secret link is brilliant — the board finally reads it. Can "
        "we embed the public roadmap on our website too?",
        Sentiment.POSITIVE,
    ),
    (
        "The weekly digest e-mail is how our executives keep up; please add the KPIs that "
        "missed their target to it.",
        Sentiment.POSITIVE,
    ),
    (
        "Triaging feedback from support, sales and interviews in one inbox is the reason we "
        "bought Lodestar.",
        Sentiment.POSITIVE,
    ),
    (
        "Linking feedback to features takes too long; suggest the matching feature so we can "
        "link it in one click.",
        Sentiment.NEGATIVE,
    ),
    (
        "We plan sprints in a spreadsheet because the sprint planning view doesn't warn us "
        "when we over-commit against capacity.",
        Sentiment.NEGATIVE,
    ),
    (
        "A library of story templates and reusable Given/When/Then acceptance criteria would "
        "make refinement much faster.",
        Sentiment.NEUTRAL,
    ),
    (
        "After a launch we want to see whether the KPI actually moved — a before/after launch "
        "impact report per feature.",
        Sentiment.NEUTRAL,
    ),
    (
        "We run A/B experiments and track lift and significance in a notebook; experiment "
        "tracking inside the tool would be great.",
        Sentiment.NEUTRAL,
    ),
    (
        "Alert the KPI owner when a metric suddenly drops — we noticed the activation dip a "
        "week late.",
        Sentiment.NEGATIVE,
    ),
    (
        "Please add a dark mode; the bright white screen is hard on the eyes in the evening.",
        Sentiment.NEUTRAL,
    ),
    (
        "I triage on my phone on the train and the pages are cramped — a mobile app or a better "
        "mobile layout please.",
        Sentiment.NEGATIVE,
    ),
    (
        "Opening the backlog with 2,000 features takes ten seconds; the backlog page needs to "
        "load faster.",
        Sentiment.NEGATIVE,
    ),
    (
        "We'd like to compare two roadmap scenarios side by side before the planning offsite.",
        Sentiment.NEUTRAL,
    ),
    (
        "Custom fields on features (a customer tier, a region) that we can filter the backlog by.",
        Sentiment.NEUTRAL,
    ),
    (
        "Our auditors want the full change history exported for SOC 2 — an audit log export.",
        Sentiment.NEUTRAL,
    ),
    (
        "RICE scoring with reach taken from customer feedback changed how we prioritise. Love it.",
        Sentiment.POSITIVE,
    ),
    (
        "A private advisory portal where our design partners can vote on upcoming ideas would "
        "help us engage them.",
        Sentiment.POSITIVE,
    ),
]

CONTEXT = [
    "Came up again in their quarterly business review.",
    "Raised by their head of product.",
    "They mentioned it twice during the call.",
    "It is blocking the rollout to their second team.",
    "Not urgent, but they would use it every week.",
    "They are evaluating a competitor that has this.",
    "Asked for by three of their PMs.",
    "Mentioned while renewing for another year.",
]

SOURCES = [
    Source.SUPPORT_TICKET,
    Source.SALES_CALL,
    Source.INTERVIEW,
    Source.EMAIL,
    Source.SURVEY,
    Source.APP_REVIEW,
    Source.USABILITY_TEST,
]

STUDIES = [
    (
        "Onboarding interviews, autumn",
        StudyKind.INTERVIEW,
        StudyStatus.COMPLETE,
        "Learn what new product teams struggle with in their first month, from setup to the "
        "first roadmap review.",
        "Six PMs from mid-size SaaS companies, three weeks after sign-up.",
        "Setup is quick; **linking evidence** is where teams stall. Most want feedback "
        "suggested against features rather than searched for.",
        [
            "Could not find where to link a support ticket to a feature; searched for five "
            "minutes.",
            "Expected the roadmap to update itself when features ship.",
            "Wants to import last year's survey answers from a CSV file.",
            "Loves the strategy page; will show the vision to the board.",
        ],
    ),
    (
        "Roadmap sharing usability test",
        StudyKind.USABILITY_TEST,
        StudyStatus.RUNNING,
        "Can a stakeholder find what ships next quarter on a shared roadmap, unaided?",
        "Five executives and account managers, remote, moderated.",
        "",
        [
            "Three of five participants looked for a timeline filter by theme.",
            "Participants did not notice the secret-link expiry date.",
            "Asked to embed the public roadmap on the customer help centre.",
        ],
    ),
]

PORTAL_INTRO = (
    "Tell us what would make Lodestar better for your team. Vote for the ideas you care "
    "about — we read every one and show here what we plan and what shipped."
)
PENDING_SUBMISSIONS = [
    ("Keyboard shortcuts for the backlog", "Moving features with j/k and a key to open one."),
    ("Calendar view of releases", "A month view of release dates to share with marketing."),
]


def _now():
    return timezone.now().replace(microsecond=0)


@transaction.atomic
def load(*, workspace, product, users) -> None:
    """Extend the demo workspace with feedback (see the module docstring)."""
    pm = users.get(Role.PM) or next(iter(users.values()))
    rng = random.Random(6)  # deterministic: the same demo every time
    now = _now()

    existing = {c.name: c for c in Customer.objects.filter(workspace=workspace)}
    customers = []
    for name, segment, plan, arr in CUSTOMERS:
        customer = existing.get(name)
        if customer is None:
            domain = name.lower().replace(" ", "").replace("'", "")
            customer = customer_create(
                workspace=workspace,
                data={
                    "name": name,
                    "segment": segment,
                    "plan": plan,
                    "arr": Decimal(arr),
                    "contact": f"product@{domain}.example",
                },
                actor=pm,
            )
        customers.append(customer)

    have = set(FeedbackItem.objects.filter(product=product).values_list("content", flat=True))
    created: list[tuple[FeedbackItem, str]] = []
    for n in range(150):
        topic, sentiment = TOPICS[n % len(TOPICS)]
        context = CONTEXT[(n // len(TOPICS)) % len(CONTEXT)]
        content = f"{topic} {context}"
        if content in have:
            continue
        # Bigger customers speak up more often: weight by the square root of their ARR.
        customer = rng.choices(customers, weights=[float(c.arr) ** 0.5 for c in customers])[0]
        item = feedback_create(
            product=product,
            content=content,
            source=SOURCES[n % len(SOURCES)],
            sentiment=sentiment,
            received_at=now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23)),
            customer=customer,
            actor=pm,
        )
        created.append((item, topic))

    _link_and_triage(created, product, pm, rng)
    _studies(product, customers, pm)
    _portal(product, pm)


def _link_and_triage(items, product, pm, rng) -> None:
    """Link about two thirds of the new items to the best-matching feature or idea for their
    topic (as a PM would from the suggestions), mark some triaged or archived, leave the rest
    new."""
    importance = [Importance.NICE_TO_HAVE, Importance.IMPORTANT, Importance.CRITICAL]
    best_for: dict[str, selectors.Suggestion | None] = {}
    for item, topic in sorted(items, key=lambda pair: pair[0].received_at):
        roll = rng.random()
        if roll < 0.66:
            if topic not in best_for:
                found = selectors.suggest_targets(product=product, text=topic, limit=1)
                best_for[topic] = found[0] if found else None
            best = best_for[topic]
            # A PM links only a convincing match: two topic words in common, one in the title.
            if best and _convincing(topic, best.obj):
                insight_create(
                    item=item,
                    feature=best.obj if isinstance(best.obj, Feature) else None,
                    idea=best.obj if isinstance(best.obj, Idea) else None,
                    quote=item.content.split(";")[0].split(". ")[0].strip(". "),
                    importance=rng.choices(importance, weights=[3, 5, 2])[0],
                    actor=pm,
                )
                continue
        if roll < 0.80:
            feedback_set_status(item=item, status=FeedbackStatus.TRIAGED, actor=pm)
        elif roll < 0.85:
            feedback_set_status(item=item, status=FeedbackStatus.ARCHIVED, actor=pm)


def _convincing(text: str, target) -> bool:
    words = set(matching.stems(text))
    in_title = words & set(matching.stems(target.title))
    in_all = words & set(matching.stems(f"{target.title} {target.description}"))
    return bool(in_title) and len(in_all) >= 2


def _studies(product, customers, pm) -> None:
    have = set(ResearchStudy.objects.filter(product=product).values_list("title", flat=True))
    today = timezone.localdate()
    for index, (title, kind, status, goal, notes, summary, findings) in enumerate(STUDIES):
        if title in have:
            continue
        study = study_create(
            product=product,
            data={
                "title": title,
                "kind": kind,
                "status": status,
                "goal": goal,
                "participant_notes": notes,
                "summary": summary,
                "started_on": today - timedelta(days=40 - 20 * index),
                "ended_on": today - timedelta(days=20) if status == StudyStatus.COMPLETE else None,
            },
            participants=customers[6 + index * 6 : 12 + index * 6],
            actor=pm,
        )
        for offset, finding in enumerate(findings):
            study_add_finding(
                study=study,
                content=finding,
                customer=customers[6 + index * 6 + offset],
                sentiment=Sentiment.NEUTRAL,
                received_at=timezone.now() - timedelta(days=30 - 10 * index - offset),
                actor=pm,
            )


def _portal(product, pm) -> None:
    """Switch the portal on, publish the most-asked-for ideas with some confirmed votes, and
    leave two visitor submissions waiting for moderation."""
    settings, _ = PortalSettings.objects.get_or_create(product=product)
    if settings.enabled or PortalPost.objects.filter(product=product).exists():
        return
    portal_settings_update(
        product=product,
        data={"enabled": True, "accept_submissions": True, "intro": PORTAL_INTRO},
        expected_version=settings.version,
        actor=pm,
    )
    ideas = list(Idea.objects.filter(product=product).filter(selectors.OPEN_IDEAS)[:6])
    for rank, idea in enumerate(ideas):
        post = portal_post_publish(
            idea=idea,
            title=idea.title,
            description="",
            actor=pm,
        )
        votes = [
            PortalVote(
                workspace_id=product.workspace_id,
                post=post,
                email=f"visitor{n}@example.com",
                confirmed_at=timezone.now(),
            )
            for n in range(18 - 3 * rank)
        ]
        PortalVote.objects.bulk_create(votes)
        PortalPost.objects.filter(pk=post.pk).update(votes=len(votes))
        backlog_services.idea_add_votes(idea=idea, delta=len(votes))
    for title, description in PENDING_SUBMISSIONS:
        PortalPost.objects.create(
            product=product, title=title, description=description, status=PostStatus.PENDING
        )
