"""Paraphrased feedback written against the demo backlog (`load_demo`), for measuring how well
suggestions find the feature or idea a text is about when it shares few words with it.

Each entry: (feedback text, kind of target, title of the target, other acceptable titles). The
texts avoid the target's title words and most of its description on purpose: they say the same
thing the way a customer would. A second acceptable title is listed only where the demo has two
rows that genuinely mean the same (a feature and an idea both about dark themes, or about a
printable roadmap).

Used by tests/feedback/test_semantic_accuracy.py (asserts the goal of issue 16) and
bench/suggestions.py (prints full-text vs embeddings vs hybrid)."""

from __future__ import annotations

PARAPHRASES: list[tuple[str, str, str, tuple[str, ...]]] = [
    # --- features ---
    (
        "Customer comments are scattered across Zendesk, the CRM and call recordings; we want "
        "everybody's input gathered in a single place to go through.",
        "feature",
        "Unified feedback inbox",
        (),
    ),
    (
        "Every iteration we pile on more tickets than the developers can get through. Tell us "
        "when the plan is bigger than what they delivered before.",
        "feature",
        "Sprint capacity and over-commit warning",
        (),
    ),
    (
        "Attaching a client's remark to the roadmap item it is about takes far too many steps.",
        "feature",
        "Link feedback to features in one click",
        (),
    ),
    (
        "Writing the changelog for users every month is tedious; draft a first version from "
        "what went out.",
        "feature",
        "Release notes from shipped features",
        (),
    ),
    (
        "Did the new onboarding actually move activation? Compare the numbers for the weeks "
        "prior to and following go-live.",
        "feature",
        "Launch impact: before/after KPI windows",
        (),
    ),
    (
        "Let us give investors a private URL where they can view our plans without logging in, "
        "and kill that URL whenever we want.",
        "feature",
        "Public roadmap share links",
        (),
    ),
    (
        "Our accounts live in Salesforce. Let us bring in the account list with revenue and "
        "tier from a spreadsheet file.",
        "feature",
        "CSV import of customers",
        (),
    ),
    (
        "Send me a Monday-morning summary in my mailbox of everything that happened in the "
        "product over the last seven days.",
        "feature",
        "Weekly digest e-mail",
        (),
    ),
    (
        "When we split traffic between two variants, tell us whether the winner is "
        "statistically real or just noise.",
        "feature",
        "Experiment results with significance",
        (),
    ),
    (
        "Writing every ticket from scratch is slow; give us prefilled skeletons with the user "
        "role and the scenario format.",
        "feature",
        "Story templates",
        (),
    ),
    (
        "Power users want to navigate the list of items without touching the mouse, vim-style.",
        "feature",
        "Keyboard shortcuts in the backlog",
        (),
    ),
    (
        "Show where people abandon the signup flow, stage by stage, so we see where we lose them.",
        "feature",
        "Funnel drop-off chart",
        (),
    ),
    (
        "Our executives want a hard copy of the plan they can carry into the board room.",
        "feature",
        "Roadmap timeline export to PDF",
        ("Printable roadmap",),
    ),
    (
        "Scrolling through our list of several thousand items freezes the browser for ages; "
        "performance is terrible.",
        "feature",
        "Slow backlog page with many features",
        (),
    ),
    (
        "Visitors keep submitting the very same request over and over; spot the repeats and "
        "combine them.",
        "feature",
        "Duplicate ideas from the portal",
        (),
    ),
    (
        "The graphs component you ship is out of support; move to a current release of it.",
        "feature",
        "Upgrade charting library",
        (),
    ),
    (
        "The aggregation jobs are tied to Postgres-specific queries; rewrite them so they run "
        "on other databases too.",
        "feature",
        "Replace hand-written SQL in rollups",
        (),
    ),
    (
        "Which of our target user types is nobody building anything for next quarter? A "
        "summary of that would help planning.",
        "feature",
        "Persona coverage report",
        (),
    ),
    (
        "Sizing guesses made half a year ago should count as less certain as they get stale.",
        "feature",
        "Confidence decay for old estimates",
        (),
    ),
    (
        "Ping our team chat room whenever something goes live.",
        "feature",
        "Slack notifications for shipped features",
        (),
    ),
    (
        "Our developers work in Atlassian's issue tracker; keep their tickets mirrored in both "
        "directions.",
        "feature",
        "Jira two-way sync",
        (),
    ),
    (
        "Big-paying accounts should weigh more when we prioritise: use their revenue in the "
        "scoring formula.",
        "feature",
        "Customer-weighted reach",
        (),
    ),
    (
        "Our quarterly objectives should update themselves from the metrics instead of someone "
        "typing numbers in every Friday.",
        "feature",
        "OKR progress from KPIs",
        (),
    ),
    (
        "Since last Monday, which items slid to later dates or got added to the plan? A diff "
        "would save me a meeting.",
        "feature",
        "Roadmap 'what changed' view",
        (),
    ),
    (
        "Please require a code from an authenticator app in addition to the password when "
        "people log in.",
        "feature",
        "Two-factor sign-in",
        (),
    ),
    (
        "Can we get light text on a black background? Staring at the bright screen late at "
        "night hurts.",
        "feature",
        "Dark mode",
        ("Darker dark mode",),
    ),
    (
        "While reading a user conversation transcript I want to mark a sentence and save it "
        "as evidence.",
        "feature",
        "Interview notes with highlights",
        (),
    ),
    (
        "We ran a questionnaire in Typeform; every person's response should arrive as its own "
        "entry.",
        "feature",
        "Survey import",
        (),
    ),
    (
        "At the end of each iteration we want to record if we achieved what we set out to do, "
        "and see how often we succeed.",
        "feature",
        "Sprint goal tracking",
        (),
    ),
    (
        "Based on how fast the team has been going, estimate the date this initiative will be "
        "complete.",
        "feature",
        "Velocity forecast for the roadmap",
        (),
    ),
    (
        "Our compliance officer needs a downloadable record of who changed what and when.",
        "feature",
        "Audit log export",
        (),
    ),
    (
        "Changing twenty items one by one is painful; let me tick several and update them "
        "together.",
        "feature",
        "Bulk edit in the backlog",
        (),
    ),
    (
        "The task board is unusable on my smartphone; the lanes do not fit on the small display.",
        "feature",
        "Mobile-friendly sprint board",
        (),
    ),
    (
        "Put a small 'suggest something' button inside our own app that sends our users' "
        "requests straight to you.",
        "feature",
        "Feature request widget",
        (),
    ),
    (
        "Notify me when a metric behaves strangely, like a sharp dip in signups overnight.",
        "feature",
        "KPI anomaly alerts",
        (),
    ),
    (
        "The summary email lands at 2am for our Sydney office; send it in their morning hour.",
        "feature",
        "Time zone aware digests",
        (),
    ),
    (
        "Suggestions nobody has touched in twelve months should be tidied away on their own.",
        "feature",
        "Archive old ideas automatically",
        (),
    ),
    (
        "Our integration gets throttled without warning; tell the client how many calls it "
        "has left.",
        "feature",
        "API rate limit headers",
        (),
    ),
    (
        "When I set up a fresh workspace for another app I don't know where to start; a guided "
        "list of first steps would help.",
        "feature",
        "Onboarding checklist for new products",
        (),
    ),
    # --- ideas ---
    (
        "Our PMO wants horizontal bars on a calendar showing what depends on what, like in MS "
        "Project.",
        "idea",
        "Gantt view of initiatives",
        (),
    ),
    (
        "Pull the chats from our customer messaging tool into the suggestions list "
        "automatically instead of retyping them.",
        "idea",
        "Import ideas from Intercom",
        (),
    ),
    (
        "We would like our plan shown inside our company wiki pages so documentation never "
        "goes out of date.",
        "idea",
        "Roadmap in Confluence",
        (),
    ),
    (
        "Let people upvote requests straight from our chat workspace with a slash command.",
        "idea",
        "Vote on ideas from Slack",
        (),
    ),
    (
        "Bucket the requests into must-be, one-dimensional and attractive qualities from "
        "questionnaire results.",
        "idea",
        "Score with Kano model",
        (),
    ),
    (
        "We need our own extra attributes on each item, such as the deal it was promised in.",
        "idea",
        "Custom fields on features",
        (),
    ),
    (
        "Post the seven-day recap into our Microsoft chat rather than sending it by mail.",
        "idea",
        "Weekly summary in Teams",
        (),
    ),
    (
        "Finance wants our prioritized list of work as a spreadsheet file every quarter.",
        "idea",
        "Export the backlog to CSV",
        (),
    ),
    (
        "The night theme is too greyish on my AMOLED phone; pure black please.",
        "idea",
        "Darker dark mode",
        ("Dark mode",),
    ),
]
