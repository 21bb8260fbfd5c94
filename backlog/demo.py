"""The demo backlog for `load_demo`: about forty scored features across the product's themes,
user stories with acceptance criteria, three finished sprints (so velocity has a history), a
current sprint in full swing and the next one, and a dozen ideas waiting for triage.

Idempotent: every row is found by its title (sprints by name) before it is created, so a
second run changes nothing. Everything goes through the backlog's services."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backlog import retro, services
from backlog.choices import (
    CustomFieldKind,
    CustomFieldTarget,
    FeatureKind,
    FeatureStatus,
    IdeaSource,
    IdeaStatus,
    MoSCoW,
    StoryStatus,
)
from backlog.models import CustomField, Feature, Idea, RetroItem, Sprint, UserStory
from pm.choices import Role
from pm.models import Persona, StrategicTheme

K, S, M = FeatureKind, FeatureStatus, MoSCoW
EVIDENCE, FLOW, OUTCOMES, TRUST = (
    "Customer evidence",
    "Delivery flow",
    "Outcome measurement",
    "Stakeholder trust",
)

# (title, kind, theme, status, moscow, (reach, impact, confidence %, effort), description)
FEATURES = [
    (
        "Unified feedback inbox",
        K.FEATURE,
        EVIDENCE,
        S.SHIPPED,
        M.MUST,
        (1800, 3, 90, 4),
        "One inbox for support tickets, sales notes, interviews and app reviews.\n\n"
        "- triage with keyboard shortcuts\n- link an item to an idea or feature in one step",
    ),
    (
        "Sprint capacity and over-commit warning",
        K.FEATURE,
        FLOW,
        S.IN_PROGRESS,
        M.MUST,
        (1200, 2, 90, 2),
        "Show committed points against capacity while planning, and warn "
        "before the team takes on more than it finished last time.",
    ),
    (
        "Link feedback to features in one click",
        K.FEATURE,
        EVIDENCE,
        S.IN_PROGRESS,
        M.MUST,
        (2400, 2, 80, 3),
        "From the inbox, search features by title and link the quote.",
    ),
    (
        "Release notes from shipped features",
        K.FEATURE,
        TRUST,
        S.PLANNED,
        M.SHOULD,
        (900, 1, 80, 1),
        "Draft release notes from the features in a release, in Markdown.",
    ),
    (
        "Launch impact: before/after KPI windows",
        K.FEATURE,
        OUTCOMES,
        S.PLANNED,
        M.MUST,
        (700, 3, 70, 3),
        "Measure a KPI over equal windows before and after a feature ships.",
    ),
    (
        "Public roadmap share links",
        K.FEATURE,
        TRUST,
        S.SHIPPED,
        M.MUST,
        (1500, 2, 90, 2),
        "A read-only roadmap page behind an unguessable link, revocable at any time.",
    ),
    (
        "CSV import of customers",
        K.IMPROVEMENT,
        EVIDENCE,
        S.REFINED,
        M.SHOULD,
        (600, 1, 90, 1),
        "Import customers with segment, plan and ARR from a CSV export of the CRM.",
    ),
    (
        "Weekly digest e-mail",
        K.FEATURE,
        TRUST,
        S.REFINED,
        M.SHOULD,
        (2000, 1, 80, 2),
        "One e-mail a week per subscriber: roadmap changes, KPIs that moved, new feedback.",
    ),
    (
        "Experiment results with significance",
        K.FEATURE,
        OUTCOMES,
        S.BACKLOG,
        M.SHOULD,
        (400, 2, 60, 3),
        "Lift and a significance test for A/B experiments linked to features.",
    ),
    (
        "Story templates",
        K.IMPROVEMENT,
        FLOW,
        S.BACKLOG,
        M.COULD,
        (1100, 0.5, 80, 1),
        "Start a story from a template with persona and Given/When/Then criteria prefilled.",
    ),
    (
        "Keyboard shortcuts in the backlog",
        K.IMPROVEMENT,
        FLOW,
        S.BACKLOG,
        M.COULD,
        (800, 0.5, 90, 0.5),
        "j/k to move, e to edit the score inputs, m to move to the top.",
    ),
    (
        "Funnel drop-off chart",
        K.FEATURE,
        OUTCOMES,
        S.BACKLOG,
        M.COULD,
        (500, 1, 70, 2),
        "Ordered steps of event counts with the drop-off between steps.",
    ),
    (
        "Roadmap timeline export to PDF",
        K.FEATURE,
        TRUST,
        S.BACKLOG,
        M.COULD,
        (700, 1, 50, 2),
        "Executives asked for a printable roadmap; print CSS first, PDF later.",
    ),
    (
        "Slow backlog page with many features",
        K.BUG,
        FLOW,
        S.REFINED,
        M.MUST,
        (1200, 1, 100, 0.5),
        "The backlog took seconds to render above a few thousand features.",
    ),
    (
        "Duplicate ideas from the portal",
        K.BUG,
        EVIDENCE,
        S.BACKLOG,
        M.SHOULD,
        (300, 1, 90, 0.5),
        "The same request arrives several times; suggest a merge on triage.",
    ),
    (
        "Upgrade charting library",
        K.TECH_DEBT,
        OUTCOMES,
        S.BACKLOG,
        M.SHOULD,
        (0, 0.25, 100, 0.5),
        "Stay on a supported major version.",
    ),
    (
        "Replace hand-written SQL in rollups",
        K.TECH_DEBT,
        OUTCOMES,
        S.BACKLOG,
        M.COULD,
        (0, 0.25, 80, 1),
        "Rollups use raw SQL that only works on PostgreSQL.",
    ),
    (
        "Persona coverage report",
        K.FEATURE,
        EVIDENCE,
        S.BACKLOG,
        M.COULD,
        (400, 1, 50, 1),
        "Which personas the stories of the next quarter serve, and which none do.",
    ),
    (
        "Confidence decay for old estimates",
        K.IMPROVEMENT,
        FLOW,
        S.BACKLOG,
        M.WONT,
        (300, 0.5, 40, 1),
        "Lower confidence automatically when an estimate is months old.",
    ),
    (
        "Slack notifications for shipped features",
        K.FEATURE,
        TRUST,
        S.BACKLOG,
        M.SHOULD,
        (1300, 1, 70, 1),
        "Post to a channel when a release ships.",
    ),
    (
        "Jira two-way sync",
        K.FEATURE,
        FLOW,
        S.BACKLOG,
        M.COULD,
        (2500, 2, 40, 6),
        "Keep stories in step with Jira issues for teams that deliver there.",
    ),
    (
        "Customer-weighted reach",
        K.IMPROVEMENT,
        EVIDENCE,
        S.REFINED,
        M.SHOULD,
        (900, 2, 80, 1),
        "Use the ARR of the customers asking as RICE reach.",
    ),
    (
        "OKR progress from KPIs",
        K.FEATURE,
        OUTCOMES,
        S.REFINED,
        M.MUST,
        (1000, 2, 80, 2),
        "Key results read their current value from a KPI instead of by hand.",
    ),
    (
        "Roadmap 'what changed' view",
        K.FEATURE,
        TRUST,
        S.SHIPPED,
        M.SHOULD,
        (1100, 1, 90, 1),
        "What moved, slipped or was added since last week.",
    ),
    (
        "Two-factor sign-in",
        K.FEATURE,
        TRUST,
        S.BACKLOG,
        M.MUST,
        (2500, 1, 90, 2),
        "TOTP for every account; required for admins.",
    ),
    (
        "Dark mode",
        K.IMPROVEMENT,
        FLOW,
        S.BACKLOG,
        M.WONT,
        (1500, 0.25, 80, 1),
        "Often asked for, rarely the reason anyone buys.",
    ),
    (
        "Interview notes with highlights",
        K.FEATURE,
        EVIDENCE,
        S.BACKLOG,
        M.SHOULD,
        (500, 2, 60, 2),
        "Highlight a quote in interview notes and turn it into an insight.",
    ),
    (
        "Survey import",
        K.FEATURE,
        EVIDENCE,
        S.BACKLOG,
        M.COULD,
        (450, 1, 60, 1),
        "Import survey answers as feedback items, one per respondent.",
    ),
    (
        "Sprint goal tracking",
        K.IMPROVEMENT,
        FLOW,
        S.BACKLOG,
        M.SHOULD,
        (800, 1, 70, 1),
        "Mark at sprint end whether the goal was met; show the trend.",
    ),
    (
        "Velocity forecast for the roadmap",
        K.FEATURE,
        TRUST,
        S.BACKLOG,
        M.COULD,
        (700, 2, 50, 3),
        "Project when an initiative's stories will be done at current velocity.",
    ),
    (
        "Audit log export",
        K.FEATURE,
        TRUST,
        S.BACKLOG,
        M.COULD,
        (200, 1, 80, 1),
        "CSV of the activity log for compliance reviews.",
    ),
    (
        "Bulk edit in the backlog",
        K.IMPROVEMENT,
        FLOW,
        S.SHIPPED,
        M.SHOULD,
        (1000, 1, 90, 1),
        "Select rows and change their status at once.",
    ),
    (
        "Mobile-friendly sprint board",
        K.IMPROVEMENT,
        FLOW,
        S.BACKLOG,
        M.COULD,
        (600, 0.5, 80, 1),
        "Columns scroll sideways on a phone; cards stay readable.",
    ),
    (
        "Feature request widget",
        K.FEATURE,
        EVIDENCE,
        S.BACKLOG,
        M.COULD,
        (1700, 1, 40, 3),
        "An embeddable widget that posts to the ideas portal.",
    ),
    (
        "KPI anomaly alerts",
        K.FEATURE,
        OUTCOMES,
        S.BACKLOG,
        M.COULD,
        (600, 2, 40, 4),
        "Alert the owner when a KPI leaves its usual range.",
    ),
    (
        "Time zone aware digests",
        K.BUG,
        TRUST,
        S.REFINED,
        M.SHOULD,
        (900, 0.5, 100, 0.5),
        "Digests go out at 7:00 in the workspace's time zone, not UTC.",
    ),
    (
        "Archive old ideas automatically",
        K.IMPROVEMENT,
        EVIDENCE,
        S.BACKLOG,
        M.WONT,
        (200, 0.25, 60, 0.5),
        "Ideas untouched for a year move to archived.",
    ),
    (
        "API rate limit headers",
        K.TECH_DEBT,
        FLOW,
        S.BACKLOG,
        M.SHOULD,
        (300, 0.5, 90, 0.5),
        "Return the remaining quota so integrations can back off politely.",
    ),
    (
        "Competitor pricing tracker",
        K.FEATURE,
        TRUST,
        S.ARCHIVED,
        M.WONT,
        (100, 0.5, 30, 2),
        "Shelved: pricing pages change too often to keep up by hand.",
    ),
    (
        "Onboarding checklist for new products",
        K.FEATURE,
        FLOW,
        S.BACKLOG,
        M.SHOULD,
        (1400, 1, 60, 1),
        "Vision, themes, first objective, first ten features — one step at a time.",
    ),
]

# ROI inputs for a few features: (expected revenue or savings, cost, horizon in months).
ROI = {
    "Unified feedback inbox": (180000, 60000, 12),
    "Link feedback to features in one click": (90000, 30000, 12),
    "Launch impact: before/after KPI windows": (120000, 55000, 18),
    "Weekly digest e-mail": (40000, 18000, 12),
    "Jira two-way sync": (150000, 140000, 12),
    "Two-factor sign-in": (60000, 25000, 24),
}

# Stories: feature title → [(title, as a, I want, so that, points, [criteria])]
STORIES = {
    "Sprint capacity and over-commit warning": [
        (
            "Show committed points against capacity",
            "product manager",
            "to see committed points next to the sprint's capacity while I plan",
            "I don't promise more than the team can finish",
            3,
            [
                "Given a sprint with capacity 20, when I add stories worth 13, then I see 13 / 20",
                "Given no stories, when I open planning, then I see 0 / capacity",
            ],
        ),
        (
            "Warn when the sprint is over-committed",
            "product manager",
            "a warning when committed points exceed capacity",
            "I can rebalance before we start",
            2,
            ["Given 22 committed of 20, when I look at the plan, then a warning says over by 2"],
        ),
        (
            "Velocity chart of the last sprints",
            "tech lead",
            "a chart of done points per sprint",
            "capacity is based on evidence",
            5,
            [
                "Given three finished sprints, when I open Sprints, then I see three bars",
                "Given no finished sprint, when I open Sprints, then I see an explanation",
            ],
        ),
        (
            "Drag cards across the sprint board",
            "engineer",
            "to drag a story card to another column",
            "its status follows the work",
            5,
            [
                "Given a card in To do, when I drop it in In progress, "
                "then its status is In progress",
                "Given someone else moved it meanwhile, when I drop it, "
                "then I'm told and nothing is overwritten",
            ],
        ),
    ],
    "Link feedback to features in one click": [
        (
            "Search features from a feedback item",
            "product manager",
            "to search features by title from the inbox",
            "linking takes seconds",
            3,
            ["Given a feedback item, when I type three letters, then matching features appear"],
        ),
        (
            "Link a highlighted quote",
            "product manager",
            "to link a highlighted quote to a feature",
            "the evidence keeps the customer's words",
            5,
            ["Given a selected quote, when I choose a feature, then the insight shows the quote"],
        ),
        (
            "Count distinct customers per feature",
            "product manager",
            "each feature to show how many customers asked",
            "reach reflects real demand",
            3,
            ["Given two items from one customer, when both are linked, then demand is 1"],
        ),
    ],
    "Release notes from shipped features": [
        (
            "Draft notes from a release",
            "product manager",
            "a Markdown draft listing the release's features",
            "writing notes takes minutes",
            3,
            ["Given a release with 4 features, when I draft notes, then all 4 are listed"],
        ),
        (
            "Hide internal features from public notes",
            "product manager",
            "internal features left out of public notes",
            "we don't leak unannounced work",
            2,
            ["Given an internal feature, when I draft public notes, then it is not listed"],
        ),
    ],
    "Launch impact: before/after KPI windows": [
        (
            "Pick a KPI for a feature",
            "product manager",
            "to link a KPI and the change I expect",
            "we know what success looks like",
            2,
            ["Given a feature, when I link a KPI with +5%, then the prediction is saved"],
        ),
        (
            "Compare equal windows around the ship date",
            "head of product",
            "the KPI before and after shipping over equal windows",
            "impact claims are fair",
            8,
            ["Given a ship date, when 14 days passed, then I see 14 days before vs after"],
        ),
    ],
    "CSV import of customers": [
        (
            "Upload a CSV of customers",
            "product manager",
            "to upload a CSV with name, segment, plan and ARR",
            "feedback can be weighted by ARR",
            3,
            [
                "Given a valid CSV, when I upload it, then each row becomes a customer",
                "Given a row with a bad ARR, when I upload, then that row is reported and skipped",
            ],
        ),
    ],
    "Weekly digest e-mail": [
        (
            "Subscribe to a weekly digest",
            "stakeholder",
            "to subscribe to a product's weekly digest",
            "I stay informed without meetings",
            2,
            ["Given I subscribe weekly, when Monday 7:00 comes, then I get one e-mail"],
        ),
        (
            "Preview the digest",
            "product manager",
            "to preview this week's digest in the browser",
            "I know what stakeholders will read",
            3,
            ["Given roadmap changes this week, when I preview, then they are listed"],
        ),
    ],
    "Slow backlog page with many features": [
        (
            "Paginate the backlog",
            "product manager",
            "the backlog to load quickly with thousands of features",
            "I don't wait on it",
            3,
            ["Given 5,000 features, when I open the backlog, then the first rows appear fast"],
        ),
    ],
    "OKR progress from KPIs": [
        (
            "Key result reads a KPI",
            "head of product",
            "a key result to take its current value from a KPI",
            "OKR progress is never stale",
            5,
            ["Given a KR linked to a KPI, when the KPI gets a new value, then KR progress moves"],
        ),
    ],
    "Customer-weighted reach": [
        (
            "Reach from customers' ARR",
            "product manager",
            "RICE reach to be the summed ARR of customers asking",
            "big accounts weigh more",
            3,
            ["Given reach from ARR, when a €40k customer is linked, then reach grows by 40,000"],
        ),
    ],
    "Time zone aware digests": [
        (
            "Send at 7:00 local time",
            "stakeholder",
            "the digest at 7:00 my workspace time",
            "it's there when I start the day",
            2,
            [
                "Given Europe/Amsterdam, when the digest runs, "
                "then it is sent at 06:00 UTC in winter"
            ],
        ),
    ],
    "Bulk edit in the backlog": [
        (
            "Select rows and set their status",
            "product manager",
            "to select several features and set their status at once",
            "grooming is fast",
            3,
            ["Given 3 selected rows, when I set Refined, then all 3 are Refined"],
        ),
        (
            "Select all visible rows",
            "product manager",
            "one checkbox to select every visible row",
            "bulk changes follow my filter",
            1,
            [
                "Given a filtered backlog, when I tick Select all, "
                "then only visible rows are selected"
            ],
        ),
    ],
    "Roadmap 'what changed' view": [
        (
            "List changes since last week",
            "head of product",
            "a list of roadmap changes since last week",
            "I can brief the board",
            3,
            ["Given an initiative moved quarter, when I open What changed, then it is listed"],
        ),
        (
            "Filter changes by theme",
            "head of product",
            "to filter changes by theme",
            "I see my area only",
            2,
            ["Given two themes changed, when I filter one, then only its changes show"],
        ),
    ],
    "Public roadmap share links": [
        (
            "Create a share link",
            "product manager",
            "a link to a read-only roadmap",
            "customers see what's coming",
            3,
            ["Given a new link, when an anonymous visitor opens it, then public items show"],
        ),
        (
            "Revoke a share link",
            "product manager",
            "to revoke a link",
            "old links stop working",
            1,
            ["Given a revoked link, when someone opens it, then they get 404"],
        ),
        (
            "Hide internal initiatives",
            "product manager",
            "internal items hidden from the link",
            "nothing confidential leaks",
            2,
            ["Given an internal initiative, when the public page renders, then it is absent"],
        ),
    ],
    "Unified feedback inbox": [
        (
            "Inbox of new feedback",
            "product manager",
            "all new feedback in one list",
            "nothing gets lost",
            5,
            ["Given items from support and sales, when I open the inbox, then both appear"],
        ),
        (
            "Triage with the keyboard",
            "product manager",
            "keyboard shortcuts to triage",
            "I get through the inbox fast",
            3,
            ["Given an item selected, when I press a, then it is archived"],
        ),
        (
            "Filter by source",
            "product manager",
            "to filter the inbox by source",
            "I can focus on interviews",
            2,
            ["Given a source filter, when I pick Interview, then only interviews show"],
        ),
        (
            "Sentiment on each item",
            "product manager",
            "each item's sentiment",
            "I spot unhappy customers",
            3,
            ["Given a negative item, when I see the inbox, then it is marked negative"],
        ),
    ],
}

SHIPPED_DAYS_AGO = {
    "Unified feedback inbox": 40,
    "Public roadmap share links": 25,
    "Roadmap 'what changed' view": 12,
    "Bulk edit in the backlog": 6,
}

IDEAS = [
    ("Gantt view of initiatives", IdeaSource.SALES, "Northwind sales call", 7, IdeaStatus.NEW),
    ("Import ideas from Intercom", IdeaSource.SUPPORT, "Support team", 4, IdeaStatus.NEW),
    ("Roadmap in Confluence", IdeaSource.CUSTOMER, "Globex PM team", 9, IdeaStatus.UNDER_REVIEW),
    ("Vote on ideas from Slack", IdeaSource.PORTAL, "Ideas portal visitor", 12, IdeaStatus.NEW),
    ("Score with Kano model", IdeaSource.RESEARCH, "Interview round 3", 3, IdeaStatus.NEW),
    ("Custom fields on features", IdeaSource.CUSTOMER, "Initech", 15, IdeaStatus.UNDER_REVIEW),
    ("Weekly summary in Teams", IdeaSource.SALES, "Umbrella deal review", 2, IdeaStatus.NEW),
    ("Darker dark mode", IdeaSource.PORTAL, "Ideas portal visitor", 1, IdeaStatus.NEW),
    ("Export the backlog to CSV", IdeaSource.CUSTOMER, "Hooli", 6, IdeaStatus.NEW),
    ("Blockchain roadmap", IdeaSource.OTHER, "Conference chat", 0, IdeaStatus.NEW),
    ("Two-factor sign-in", IdeaSource.SUPPORT, "Security questionnaire", 5, IdeaStatus.NEW),
    ("Printable roadmap", IdeaSource.CUSTOMER, "Board meeting request", 4, IdeaStatus.NEW),
]
IDEA_TEXT = {
    "Gantt view of initiatives": "Their PMO wants dependencies between initiatives as bars.",
    "Import ideas from Intercom": "Support copies conversations by hand; an import would save "
    "an hour a week.",
    "Roadmap in Confluence": "Embed the public roadmap in a Confluence page so the wiki stays "
    "current.",
    "Vote on ideas from Slack": "A /lodestar vote command in the team's Slack.",
    "Score with Kano model": "Classify features as basic, performance or delighter from survey "
    "answers.",
    "Custom fields on features": "Track the contract a feature was promised in, and a "
    "customer-facing name.",
    "Weekly summary in Teams": "The weekly digest as a Microsoft Teams message.",
    "Darker dark mode": "The current dark theme is too grey for an OLED screen.",
    "Export the backlog to CSV": "For the quarterly planning spreadsheet finance asks for.",
    "Blockchain roadmap": "Put roadmap commitments on a blockchain so they can't be changed.",
    "Two-factor sign-in": "Required by their security questionnaire before they can buy.",
    "Printable roadmap": "A one-page roadmap to hand out at the board meeting.",
}
DECLINE = {"Blockchain roadmap": "Doesn't serve any persona or objective we have."}
ACCEPT = {"Two-factor sign-in"}


def _features(product, themes, pm) -> dict[str, Feature]:
    existing = {f.title: f for f in Feature.objects.filter(product=product)}
    for title, kind, theme, status, moscow, (reach, impact, conf, effort), text in FEATURES:
        if title in existing:
            continue
        data = {
            "title": title,
            "kind": kind,
            "theme": themes.get(theme),
            "moscow": moscow,
            "description": text,
            "reach": Decimal(reach),
            "impact": Decimal(str(impact)),
            "confidence": Decimal(conf),
            "effort": Decimal(str(effort)),
            "value": Decimal(str(impact)) * 3,
            "ease": Decimal(max(1, 10 - int(effort * 2))),
            "business_value": int(impact * 3) + 1,
            "time_criticality": (len(title) % 5) + 1,
            "risk_reduction": (len(text) % 4) + 1,
            "job_size": max(1, int(effort * 2)),
        }
        if title in ROI:
            revenue, cost, horizon = ROI[title]
            data.update(
                expected_revenue=Decimal(revenue), cost=Decimal(cost), roi_horizon_months=horizon
            )
        if status != S.SHIPPED:
            data["status"] = status
        feature = services.feature_create(product=product, data=data, actor=pm)
        if status == S.SHIPPED:
            when = timezone.now() - timedelta(days=SHIPPED_DAYS_AGO.get(title, 30))
            feature = services.feature_ship(feature=feature, shipped_at=when, actor=pm)
        existing[title] = feature
    return existing


def _sprints(product, pm) -> list[Sprint]:
    today = timezone.localdate()
    start = today - timedelta(days=today.weekday())  # this week's Monday
    plan = [
        ("Sprint 21", start - timedelta(days=42), 24, "Ship the unified inbox."),
        ("Sprint 22", start - timedelta(days=28), 24, "Share links and what-changed."),
        ("Sprint 23", start - timedelta(days=14), 22, "Bulk edit and linking feedback."),
        ("Sprint 24", start, 21, "Plan sprints against capacity, with velocity."),
        ("Sprint 25", start + timedelta(days=14), 21, "Release notes and launch impact."),
    ]
    sprints = []
    for name, begin, capacity, goal in plan:
        sprint = Sprint.objects.filter(product=product, name=name).first()
        if sprint is None:
            sprint = services.sprint_create(
                product=product,
                data={
                    "name": name,
                    "start": begin,
                    "end": begin + timedelta(days=11),
                    "capacity": capacity,
                    "goal": goal,
                },
                actor=pm,
            )
        sprints.append(sprint)
    return sprints


# Which sprint each feature's stories went into, and how far they got.
# (feature title, sprint index, statuses by story order)
SCHEDULE: list[tuple[str, int, list[StoryStatus | None]]] = [
    ("Unified feedback inbox", 0, [StoryStatus.DONE] * 4),
    ("Public roadmap share links", 1, [StoryStatus.DONE] * 3),
    ("Roadmap 'what changed' view", 1, [StoryStatus.DONE, StoryStatus.DONE]),
    ("Weekly digest e-mail", 1, [StoryStatus.DONE, StoryStatus.IN_REVIEW]),
    ("Bulk edit in the backlog", 2, [StoryStatus.DONE, StoryStatus.DONE]),
    ("CSV import of customers", 2, [StoryStatus.IN_PROGRESS]),
    ("Link feedback to features in one click", 2, [StoryStatus.DONE, StoryStatus.DONE, None]),
    (
        "Sprint capacity and over-commit warning",
        3,
        [StoryStatus.DONE, StoryStatus.IN_REVIEW, StoryStatus.IN_PROGRESS, StoryStatus.READY],
    ),
    ("Slow backlog page with many features", 3, [StoryStatus.IN_PROGRESS]),
    ("Time zone aware digests", 3, [StoryStatus.TODO]),
    ("Customer-weighted reach", 3, [StoryStatus.READY]),
    ("Release notes from shipped features", 4, [StoryStatus.READY, StoryStatus.TODO]),
]


def _stories(product, features, sprints, users) -> None:
    personas = list(Persona.objects.filter(product=product).order_by("name"))
    assignees = [users.get(Role.ENGINEER), users.get(Role.PM), users.get(Role.ADMIN)]
    schedule = {title: (sprints[i], statuses) for title, i, statuses in SCHEDULE}
    pm = users[Role.PM]
    existing = set(UserStory.objects.filter(product=product).values_list("feature_id", "title"))
    n = 0
    for feature_title, stories in STORIES.items():
        feature = features.get(feature_title)
        if feature is None:
            continue
        sprint, statuses = schedule.get(feature_title, (None, []))
        for i, (title, as_a, want, so_that, points, criteria) in enumerate(stories):
            n += 1
            if (feature.pk, title) in existing:
                continue
            status = statuses[i] if i < len(statuses) and statuses[i] else StoryStatus.TODO
            in_sprint = sprint if i < len(statuses) and statuses[i] else None
            done = status == StoryStatus.DONE
            services.story_create(
                feature=feature,
                data={
                    "title": title,
                    "as_a": as_a,
                    "i_want": want,
                    "so_that": so_that,
                    "points": points,
                    "status": status,
                    "sprint": in_sprint,
                    "persona": personas[n % len(personas)] if personas else None,
                    "assignee": assignees[n % len(assignees)] if in_sprint else None,
                    "acceptance_criteria": [
                        {"text": c, "done": done or (status != StoryStatus.TODO and j == 0)}
                        for j, c in enumerate(criteria)
                    ],
                },
                actor=pm,
            )


def _ideas(product, features, pm) -> None:
    existing = set(Idea.objects.filter(product=product).values_list("title", flat=True))
    for title, source, who, votes, status in IDEAS:
        if title in existing:
            continue
        idea = services.idea_create(
            product=product,
            data={
                "title": title,
                "source": source,
                "submitter_name": who,
                "votes": votes,
                "status": status,
                "description": IDEA_TEXT.get(title, ""),
            },
            actor=pm,
        )
        if title in DECLINE:
            services.idea_decline(idea=idea, reason=DECLINE[title], actor=pm)
        elif title in ACCEPT and title in features:
            services.idea_accept(idea=idea, feature=features[title], actor=pm)


@transaction.atomic
def load_demo_backlog(*, workspace, product, users) -> None:
    pm = users[Role.PM]
    themes = {t.name: t for t in StrategicTheme.objects.filter(product=product)}
    services.backlog_settings_get(product)
    features = _features(product, themes, pm)
    sprints = _sprints(product, pm)
    _stories(product, features, sprints, users)
    _ideas(product, features, pm)
    _comments(product, users)
    _retrospective(sprints[2], users)
    _custom_fields(product, features)


# (on, name, type, options, public); values below. Public ones show to stakeholders.
CUSTOM_FIELDS = [
    (
        CustomFieldTarget.FEATURE,
        "Platform",
        CustomFieldKind.MULTI_SELECT,
        ["Web", "iOS", "API"],
        True,
    ),
    (CustomFieldTarget.FEATURE, "Target date", CustomFieldKind.DATE, [], True),
    (CustomFieldTarget.FEATURE, "Strategic fit", CustomFieldKind.NUMBER, [], False),
    (CustomFieldTarget.FEATURE, "Sales commitment", CustomFieldKind.TEXT, [], False),
    (
        CustomFieldTarget.IDEA,
        "Segment",
        CustomFieldKind.SELECT,
        ["SMB", "Mid-market", "Enterprise"],
        False,
    ),
    (
        CustomFieldTarget.STORY,
        "Component",
        CustomFieldKind.SELECT,
        ["Backend", "Frontend", "API"],
        True,
    ),
    (
        CustomFieldTarget.FEEDBACK,
        "Churn risk",
        CustomFieldKind.SELECT,
        ["Low", "Medium", "High"],
        False,
    ),
]
# Feature title → {field name: value}
CUSTOM_VALUES = {
    "Public roadmap share links": {
        "Platform": ["Web"],
        "Target date": "2026-12-15",
        "Strategic fit": 8,
    },
    "CSV import of customers": {
        "Platform": ["Web", "API"],
        "Strategic fit": 6,
        "Sales commitment": "Promised to Northwind for their Q1 rollout",
    },
}


def _custom_fields(product, features: dict[str, Feature]) -> None:
    """A few custom fields, public and internal, with values on two features (rows, not
    services: the demo writes no history). Only when the product has none yet."""
    if CustomField.objects.filter(product=product).exists():
        return
    made = {}
    for position, (target, name, kind, options, public) in enumerate(CUSTOM_FIELDS):
        made[name] = CustomField.objects.create(
            product=product,
            applies_to=target,
            name=name,
            kind=kind,
            options=options,
            public=public,
            position=position,
        )
    for title, values in CUSTOM_VALUES.items():
        feature = features.get(title)
        if feature is not None:
            stored = {made[name].key: value for name, value in values.items()}
            Feature.objects.filter(pk=feature.pk).update(custom_values=stored)


# (author role, text, earlier text if it was edited)
COMMENTS = [
    (
        Role.PM,
        "@engineer could we ship the **read-only** part first? Two customers asked for it "
        "this week.",
        "",
    ),
    (
        Role.ENGINEER,
        "Yes: the API already has it behind a flag. I'd estimate three days including tests.",
        "Yes, the API already has it. A week?",
    ),
]


def _comments(product, users) -> None:
    """A short conversation on the top feature (written as rows, not through pm.collab: the demo
    notifies and e-mails nobody)."""
    from django.contrib.contenttypes.models import ContentType

    from pm.models import Comment, CommentRevision, Watch

    if Comment.objects.filter(product=product).exists():
        return
    feature = Feature.objects.filter(product=product).order_by("rank").first()
    if feature is None:
        return
    content_type = ContentType.objects.get_for_model(Feature)
    now = timezone.now()
    for minutes, (role, text, earlier) in zip((90, 30), COMMENTS, strict=True):
        comment = Comment.objects.create(
            workspace_id=product.workspace_id,
            product=product,
            content_type=content_type,
            object_id=feature.pk,
            author=users[role],
            body=text,
            created_at=now - timedelta(minutes=minutes),
            edited_at=now - timedelta(minutes=minutes - 5) if earlier else None,
        )
        if earlier:
            CommentRevision.objects.create(
                workspace_id=product.workspace_id,
                comment=comment,
                body=earlier,
                replaced_at=now - timedelta(minutes=minutes - 5),
            )
        Watch.objects.get_or_create(
            user=users[role],
            content_type=content_type,
            object_id=feature.pk,
            defaults={"product": product},
        )


def _retrospective(sprint: Sprint, users) -> None:
    """Sprint 23's review and retrospective (first load only): cards with votes, and two action
    items, one done, one still open — which shows on Sprint 24's planning page."""
    if retro.review_of(sprint).pk or RetroItem.objects.filter(sprint=sprint).exists():
        return
    pm, engineer, admin = users[Role.PM], users[Role.ENGINEER], users[Role.ADMIN]
    retro.review_save(
        sprint=sprint,
        data={
            "demo_notes": "Bulk edit shown on the 2,000-feature demo workspace; linking feedback "
            "in one click from the inbox.",
            "stakeholder_feedback": "Sales asked for bulk edit of themes too. Support wants the "
            "link suggestions to show the customer's plan.",
        },
        expected_version=1,
        actor=pm,
    )
    cards = [
        (
            "went_well",
            "Pairing on the inbox linking got it done in two days.",
            engineer,
            [pm, admin],
        ),
        ("went_well", "Demo data made the review easy to follow.", pm, [engineer]),
        (
            "to_improve",
            "CSV import of customers was not broken down: it stalled.",
            engineer,
            [pm, admin],
        ),
        (
            "to_improve",
            "Stories entered the sprint without acceptance criteria.",
            admin,
            [engineer],
        ),
        ("ideas", "Timebox refinement to 45 minutes, every Wednesday.", pm, []),
    ]
    for column, text, author, voters in cards:
        item = retro.retro_add(sprint=sprint, column=column, text=text, actor=author)
        for voter in voters:
            retro.retro_vote(item=item, voter=voter)
    done = retro.action_add(
        sprint=sprint, text="Write acceptance criteria before planning.", owner=pm, actor=pm
    )
    retro.action_set_done(action=done, done=True, actor=pm)
    retro.action_add(
        sprint=sprint,
        text="Split imports into stories of 3 points or less.",
        owner=engineer,
        actor=pm,
    )
