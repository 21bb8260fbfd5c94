"""Reading the export files of other tools into one shape: a list of records (what each of their
rows is, under which key, with which of their statuses), and per-row errors.

Pure functions with no database access, so the preview and the import read a file the same way
(the import re-reads the stored text inside its transaction). The mapping — which of their
columns is which of our fields, which of their statuses is which of ours — is a plain dict,
pre-filled by `default_mapping` from what each tool's export is known to look like and changed
on the preview page.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from backlog.choices import STORY_POINTS, FeatureStatus, IdeaStatus, StoryStatus
from backlog.models import JIRA_ISSUE_PATH
from feedback.choices import Source
from feedback.csvimport import MAX_CONTENT, MAX_ROWS, RowError
from hooks.jira import FALLBACK_FEATURE, STORY_STATUS_BY_NAME
from imports.choices import Tool
from pm.csvfiles import delimiter
from pm.fields import EARLIEST_YEAR

MAX_TITLE = 200
FALLBACK_TITLES = {Tool.JIRA: FALLBACK_FEATURE, Tool.LINEAR: "Imported from Linear"}
FALLBACK_KEY = "(no epic)"

# Our fields, how the mapping form names them, and the column names each tool's export uses for
# them (the first one present in the file is pre-selected).
FIELD_LABELS = {
    "key": "Key or ID",
    "id": "Internal id",
    "title": "Title",
    "type": "Issue type",
    "status": "Status",
    "description": "Description",
    "parent": "Epic or parent",
    "project": "Project (becomes the feature)",
    "points": "Story points",
    "content": "Note text",
    "customer": "Company",
    "contact": "Customer e-mail",
    "created": "Created",
    "comment": "Comments",
}
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    Tool.JIRA: {
        "key": ("Issue key",),
        "id": ("Issue id",),
        "title": ("Summary",),
        "type": ("Issue Type",),
        "status": ("Status",),
        "description": ("Description",),
        "parent": ("Parent", "Parent id", "Custom field (Epic Link)", "Epic Link"),
        "points": (
            "Custom field (Story point estimate)",
            "Custom field (Story Points)",
            "Story Points",
        ),
        "comment": ("Comment",),
    },
    Tool.LINEAR: {
        "key": ("ID",),
        "title": ("Title",),
        "status": ("Status",),
        "description": ("Description",),
        "project": ("Project",),
        "points": ("Estimate",),
    },
    Tool.PRODUCTBOARD_FEATURES: {
        "key": ("Feature ID", "ID", "Id", "UUID"),
        "title": ("Feature name", "Name", "Title"),
        "type": ("Feature type", "Type"),
        "status": ("Status", "Feature status"),
        "description": ("Description", "Feature description"),
    },
    Tool.PRODUCTBOARD_NOTES: {
        "key": ("Note ID", "ID", "Id", "UUID"),
        "title": ("Note title", "Title"),
        "content": ("Note text", "Content", "Text"),
        "customer": ("Company name", "Company"),
        "contact": ("User email", "Customer email", "Email"),
        "created": ("Created at", "Created"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    Tool.JIRA: ("key", "title", "type"),
    Tool.LINEAR: ("key", "title"),
    Tool.PRODUCTBOARD_FEATURES: ("key", "title"),
    Tool.PRODUCTBOARD_NOTES: ("key", "content", "created"),
    Tool.TRELLO: (),
}
# What each tool calls its file, for "this does not look like …" messages.
EXPORT_NAMES: dict[str, str] = {
    Tool.JIRA: "a Jira issues export (Filters › Export › CSV)",
    Tool.TRELLO: "a Trello board export (Menu › Print, export and share › Export as JSON)",
    Tool.PRODUCTBOARD_FEATURES: "a Productboard features export",
    Tool.PRODUCTBOARD_NOTES: "a Productboard notes export",
    Tool.LINEAR: "a Linear issues export (Settings › Import / export › Export CSV)",
}
# Where the records of each tool land when the mapping does not say otherwise.
TARGETS = {
    Tool.TRELLO: (("feature", "Features in the backlog"), ("idea", "Ideas")),
    Tool.PRODUCTBOARD_FEATURES: (("feature", "Features in the backlog"), ("idea", "Ideas")),
}
STATUS_CHOICES: dict[str, list[tuple[str, str]]] = {
    "feature": list(FeatureStatus.choices),
    "idea": [c for c in IdeaStatus.choices if c[0] != IdeaStatus.MERGED],
    "story": list(StoryStatus.choices),
}
KIND_LABELS = {"feature": "Feature", "idea": "Idea", "story": "Story", "feedback": "Feedback"}

# Their status names, by the words in them, to ours (first match wins).
_FEATURE_WORDS: list[tuple[str, str]] = [
    (r"won.?t|wont|cancel|declin|reject|duplicate|archiv|obsolete", FeatureStatus.ARCHIVED),
    (r"done|closed|resolved|releas|shipped|complete|launched|live", FeatureStatus.SHIPPED),
    (
        r"progress|doing|develop|started|building|wip|review|testing|\bqa\b",
        FeatureStatus.IN_PROGRESS,
    ),
    (r"planned|next|selected|scheduled|committed|ready|now", FeatureStatus.PLANNED),
    (r"refined|candidate|groomed|triaged|discovery|validated|spec", FeatureStatus.REFINED),
]
_IDEA_WORDS: list[tuple[str, str]] = [
    (r"won.?t|wont|cancel|declin|reject|duplicate|archiv", IdeaStatus.DECLINED),
    (r"planned|progress|doing|done|releas|shipped|complete|accept|next|now", IdeaStatus.ACCEPTED),
    (r"candidate|review|discovery|triage|validat|refined", IdeaStatus.UNDER_REVIEW),
]
_STORY_WORDS: list[tuple[str, str]] = [
    (r"done|closed|resolved|complete|releas|shipped|cancel|duplicate|won.?t", StoryStatus.DONE),
    (r"review|\bqa\b|testing|verif", StoryStatus.IN_REVIEW),
    (r"progress|doing|started|develop|wip", StoryStatus.IN_PROGRESS),
    (r"ready|selected|groomed|refined", StoryStatus.READY),
]
_DEFAULT_STATUS = {
    "feature": FeatureStatus.BACKLOG,
    "idea": IdeaStatus.NEW,
    "story": StoryStatus.TODO,
}
TRELLO_ARCHIVED = "(archived cards)"


def guess_status(kind: str, name: str) -> str:
    """Our status for one of theirs, by its name."""
    lowered = name.strip().lower()
    if kind == "story" and lowered in STORY_STATUS_BY_NAME:
        return STORY_STATUS_BY_NAME[lowered]
    words = {"feature": _FEATURE_WORDS, "idea": _IDEA_WORDS, "story": _STORY_WORDS}.get(kind, [])
    for pattern, status in words:
        if re.search(pattern, lowered):
            return status
    return _DEFAULT_STATUS.get(kind, "")


@dataclass
class Record:
    """One record of their file, read through the mapping."""

    line: int
    key: str
    kind: str  # feature, idea, story or feedback
    title: str = ""
    description: str = ""
    status: str = ""  # theirs; `fixed_status` when ours is decided without asking
    fixed_status: str = ""
    parent: str = ""  # the key of the feature a story goes under
    points: int | None = None
    received_at: datetime | None = None
    customer: str = ""
    contact: str = ""
    jira_url: str = ""
    synthetic: bool = False  # a feature we make to hold stories (a Linear project, the fallback)
    external_id: str = ""  # Jira's numeric issue id, which Jira Cloud writes as the parent
    # Filled when the plan is made (imports.services.plan):
    our_status: str = ""
    action: str = ""
    existing_id: int | None = None

    @property
    def status_key(self) -> str:
        return f"{self.kind}:{self.status}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def fingerprint(self) -> str:
        """The record as the tool exported it: a re-import with the same fingerprint skips it."""
        data = [
            self.kind,
            self.title,
            self.description,
            self.status or self.fixed_status,
            self.parent,
            self.points,
            self.received_at.isoformat() if self.received_at else "",
            self.customer,
        ]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    row_count: int = 0
    ignored: list[tuple[int, str, str]] = field(default_factory=list)  # line, key, why

    @property
    def invalid_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def status_keys(self) -> list[str]:
        """The mapping's keys for their statuses (kind:name), in the order the file has them."""
        return [f"{kind}:{name}" for kind, names in self.statuses.items() for name in names]

    @property
    def statuses(self) -> dict[str, list[str]]:
        """Their status names by the kind of record that carries them, in file order."""
        found: dict[str, list[str]] = {}
        for record in self.records:
            if record.fixed_status or record.kind not in STATUS_CHOICES:
                continue
            names = found.setdefault(record.kind, [])
            if record.status not in names:
                names.append(record.status)
        return found


# --- reading the file -----------------------------------------------------------------------


def read_table(text: str) -> tuple[list[str], list[tuple[int, list[str]]], list[RowError]]:
    """The header and the non-empty records of a CSV text, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    errors: list[RowError] = []
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [], errors
    except csv.Error as exc:
        return [], [], [RowError(1, "", f"The header row cannot be read: {exc}.")]
    rows: list[tuple[int, list[str]]] = []
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, "", f"This line cannot be read as CSV: {exc}."))
            continue
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            errors.append(
                RowError(line, "", f"A file may hold at most {MAX_ROWS:,} rows; split it.")
            )
            break
        rows.append((line, record))
    return header, rows, errors


def read_json(text: str, tool: str) -> dict:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise ValidationError(
            f"This file is not JSON, so it is not {EXPORT_NAMES[tool]}."
        ) from None
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("cards"), list)
        or not isinstance(document.get("lists"), list)
    ):
        raise ValidationError(f"This JSON has no lists and cards: it is not {EXPORT_NAMES[tool]}.")
    return document


def check_format(tool: str, text: str) -> None:
    """Refuse a file that is not the export it was uploaded as, saying what it lacks."""
    if tool == Tool.TRELLO:
        read_json(text, tool)
        return
    if text.lstrip().startswith(("{", "[")):
        raise ValidationError(f"This is a JSON file, not {EXPORT_NAMES[tool]} (a CSV file).")
    header, rows, _errors = read_table(text)
    mapping = default_columns(tool, header)
    missing = [f for f in REQUIRED[tool] if not mapping.get(f)]
    if missing:
        wanted = ", ".join(f"“{COLUMNS[tool][f][0]}”" for f in missing)
        found = ", ".join(f"“{h}”" for h in header[:12] if h) or "none"
        raise ValidationError(
            f"This does not look like {EXPORT_NAMES[tool]}: it has no {wanted} column "
            f"(found: {found})."
        )
    if not rows:
        raise ValidationError("The file has a header row but no records.")


def default_columns(tool: str, header: list[str]) -> dict[str, str]:
    present = {h.strip().lower(): h.strip() for h in header if h.strip()}
    mapping = {}
    for name, candidates in COLUMNS.get(tool, {}).items():
        mapping[name] = next((present[c.lower()] for c in candidates if c.lower() in present), "")
    return mapping


def default_mapping(tool: str, text: str) -> dict[str, Any]:
    """The mapping pre-filled from what the tool's export is known to look like."""
    mapping: dict[str, Any] = {"columns": {}, "statuses": {}}
    if tool != Tool.TRELLO:
        header, _rows, _errors = read_table(text)
        mapping["columns"] = default_columns(tool, header)
    if tool in TARGETS:
        mapping["target"] = "feature"
    if tool in (Tool.JIRA, Tool.PRODUCTBOARD_NOTES):
        mapping["source"] = Source.SUPPORT_TICKET if tool == Tool.JIRA else Source.EMAIL
    if tool == Tool.JIRA:
        mapping["comments"] = False
        mapping["jira_site"] = ""
    return complete_mapping(tool, text, mapping)


def complete_mapping(tool: str, text: str, mapping: dict[str, Any]) -> dict[str, Any]:
    """Fill in a status for each of theirs the mapping does not name yet (new columns chosen,
    another target), and drop the ones the file no longer has."""
    parsed = parse(tool, text, mapping)
    statuses = mapping.get("statuses") or {}
    complete = {}
    for kind, names in parsed.statuses.items():
        allowed = {v for v, _l in STATUS_CHOICES[kind]}
        for name in names:
            key = f"{kind}:{name}"
            chosen = statuses.get(key)
            complete[key] = chosen if chosen in allowed else guess_status(kind, name)
    return {**mapping, "statuses": complete}


# --- cells ----------------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text of Productboard's HTML descriptions, paragraphs and list items on their own
    lines (Markdown is what our descriptions hold)."""

    BLOCKS = {"p", "div", "br", "h1", "h2", "h3", "h4", "ul", "ol", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(value: str) -> str:
    if "<" not in value:
        return value.strip()
    parser = _Text()
    parser.feed(value)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",  # Jira: 24/Nov/26 3:42 PM
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)


def parse_date(value: str, tz: ZoneInfo) -> datetime | None:
    """The dates the exports write: Jira's 24/Nov/26 3:42 PM, ISO 8601 (Linear's
    2026-11-24T15:42:10.000Z, Productboard's 2026-11-24 15:42:10 UTC). None when unreadable."""
    value = value.strip()
    if not value:
        return None
    value = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", value)
    parsed: datetime | None = None
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(12, 0))
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def parse_points(value: str) -> int | None | str:
    """Story points, rounded up to the next of ours (0, 1, 2, 3, 5, 8, 13, 21); a message when
    it is not a number."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return "Story points must be a number."
    if not 0 <= number < 1000:
        return "Story points must be between 0 and 999."
    allowed = [n for n, _label in STORY_POINTS]
    return next((n for n in allowed if n >= number), allowed[-1])


def _title(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= MAX_TITLE else value[: MAX_TITLE - 1] + "…"


def jira_url(site: str, key: str) -> str:
    """The link to a Jira issue on the site named in the mapping ('' when there is none)."""
    parts = urlsplit(site.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    url = f"{parts.scheme}://{parts.netloc}/browse/{key}"
    return url if JIRA_ISSUE_PATH.match(f"/browse/{key}") and len(url) <= 500 else ""


# --- per tool -------------------------------------------------------------------------------


def parse(tool: str, text: str, mapping: dict[str, Any], *, tz: ZoneInfo | None = None) -> Parsed:
    """Every record of the file through `mapping`, with what is wrong with each row."""
    tz = tz or timezone.get_current_timezone()
    if tool == Tool.TRELLO:
        return _parse_trello(text, mapping)
    header, rows, errors = read_table(text)
    result = Parsed(headers=header, errors=errors, row_count=len(rows))
    columns = mapping.get("columns") or {}
    index = {h: i for i, h in reversed(list(enumerate(header)))}

    def position(name: str) -> int | None:
        column = columns.get(name) or ""
        return index.get(column) if column else None

    positions = {name: position(name) for name in FIELD_LABELS}
    comment_positions = [
        i for i, h in enumerate(header) if columns.get("comment") and h == columns.get("comment")
    ]
    seen: dict[str, int] = {}
    now = timezone.now()
    for line, cells in rows:

        def cell(name: str, cells: list[str] = cells) -> str:
            at = positions.get(name)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        row_errors: list[RowError] = []
        key = cell("key")
        if not key:
            column = columns.get("key") or FIELD_LABELS["key"]
            row_errors.append(RowError(line, column, "The key is empty."))
        elif len(key) > 150:
            row_errors.append(
                RowError(line, columns.get("key", ""), "Longer than 150 characters.", key[:60])
            )
        elif key in seen:
            row_errors.append(
                RowError(line, columns.get("key", ""), f"The same key as line {seen[key]}.", key)
            )
        else:
            seen[key] = line
        made = _ROW_READERS[tool](line, key, cell, mapping, tz, now, row_errors, result)
        if comment_positions and mapping.get("comments") and key and not row_errors:
            made += _jira_comments(line, key, cells, comment_positions, tz, now, row_errors)
        if row_errors:
            result.errors.extend(row_errors)
        else:
            result.records.extend(made)
    if tool in (Tool.JIRA, Tool.LINEAR):
        _attach_stories(tool, result, mapping)
    return result


def _require_title(line, cell, mapping, errors) -> str:
    title = _title(cell("title"))
    if not title:
        column = (mapping.get("columns") or {}).get("title") or "title"
        errors.append(RowError(line, column, "The title is empty."))
    return title


def _points(line, cell, mapping, errors) -> int | None:
    points = parse_points(cell("points"))
    if isinstance(points, str):
        column = (mapping.get("columns") or {}).get("points", "")
        errors.append(RowError(line, column, points, cell("points")))
        return None
    return points


def _jira_row(line, key, cell, mapping, tz, now, errors, result) -> list[Record]:
    title = _require_title(line, cell, mapping, errors)
    kind_name = cell("type").lower()
    if kind_name in ("sub-task", "subtask", "sub task"):
        result.ignored.append((line, key, "Sub-tasks are not imported (their stories are)."))
        return []
    kind = "feature" if kind_name == "epic" else "story"
    points = _points(line, cell, mapping, errors)
    return [
        Record(
            line=line,
            key=key,
            kind=kind,
            title=title,
            description=cell("description"),
            status=cell("status"),
            parent=cell("parent") if kind == "story" else "",
            points=points if kind == "story" else None,
            jira_url=jira_url(mapping.get("jira_site") or "", key),
            external_id=cell("id"),
        )
    ]


def _jira_comments(line, key, cells, positions, tz, now, errors) -> list[Record]:
    """Jira writes each comment in its own "Comment" column as date;author;text."""
    made = []
    for number, at in enumerate(p for p in positions if p < len(cells) and cells[p].strip()):
        parts = cells[at].split(";", 2)
        if len(parts) < 3:
            errors.append(
                RowError(line, "Comment", "Not a Jira comment (date;author;text).", cells[at][:60])
            )
            continue
        when = parse_date(parts[0], tz)
        body = parts[2].strip()
        if when is None:
            errors.append(RowError(line, "Comment", "The comment's date cannot be read.", parts[0]))
            continue
        if body:
            made.append(
                Record(
                    line=line,
                    key=f"{key}/comment/{number + 1}",
                    kind="feedback",
                    title=f"Comment on {key}",
                    description=body[:MAX_CONTENT],
                    received_at=when,
                    parent=key,
                )
            )
    return made


def _linear_row(line, key, cell, mapping, tz, now, errors, result) -> list[Record]:
    title = _require_title(line, cell, mapping, errors)
    project = _title(cell("project"))
    return [
        Record(
            line=line,
            key=key,
            kind="story",
            title=title,
            description=cell("description"),
            status=cell("status"),
            parent=f"project:{project}" if project else "",
            points=_points(line, cell, mapping, errors),
        )
    ]


def _pb_feature_row(line, key, cell, mapping, tz, now, errors, result) -> list[Record]:
    title = _require_title(line, cell, mapping, errors)
    return [
        Record(
            line=line,
            key=key,
            kind=mapping.get("target") or "feature",
            title=title,
            description=html_text(cell("description")),
            status=cell("status"),
        )
    ]


def _pb_note_row(line, key, cell, mapping, tz, now, errors, result) -> list[Record]:
    columns = mapping.get("columns") or {}
    title, text = _title(cell("title")), html_text(cell("content"))
    content = f"**{title}**\n\n{text}" if title and text else (text or title)
    if not content:
        errors.append(RowError(line, columns.get("content", ""), "The note is empty."))
    elif len(content) > MAX_CONTENT:
        errors.append(
            RowError(
                line,
                columns.get("content", ""),
                f"Longer than {MAX_CONTENT:,} characters.",
                content[:60],
            )
        )
    raw = cell("created")
    received = parse_date(raw, tz)
    if received is None:
        message = "The date is empty." if not raw else "The date cannot be read."
        errors.append(RowError(line, columns.get("created", ""), message, raw))
    elif received > now + timedelta(days=1):
        errors.append(RowError(line, columns.get("created", ""), "The date is in the future.", raw))
    elif received.year < EARLIEST_YEAR:
        errors.append(
            RowError(line, columns.get("created", ""), f"Use a date from {EARLIEST_YEAR} on.", raw)
        )
    customer = cell("customer")
    if len(customer) > 120:
        errors.append(
            RowError(
                line, columns.get("customer", ""), "Longer than 120 characters.", customer[:60]
            )
        )
    contact = cell("contact")[:200]
    return [
        Record(
            line=line,
            key=key,
            kind="feedback",
            title=title or text[:80],
            description=content,
            received_at=received,
            customer=customer,
            contact=contact if customer else "",
        )
    ]


# Each reads one row: (line, key, cell, mapping, tz, now, errors, result) -> its records.
_ROW_READERS: dict[str, Callable[..., list[Record]]] = {
    Tool.JIRA: _jira_row,
    Tool.LINEAR: _linear_row,
    Tool.PRODUCTBOARD_FEATURES: _pb_feature_row,
    Tool.PRODUCTBOARD_NOTES: _pb_note_row,
}


def fallback_record(tool: str, line: int) -> Record:
    """The feature that holds stories with no epic or project (hooks.jira's convention)."""
    return Record(
        line=line,
        key=FALLBACK_KEY,
        kind="feature",
        title=FALLBACK_TITLES[Tool(tool)],
        fixed_status=FeatureStatus.BACKLOG,
        synthetic=True,
    )


def _attach_stories(tool: str, result: Parsed, mapping: dict[str, Any]) -> None:
    """Each story's parent as a key: its epic (Jira; by key, or by the numeric id Jira Cloud
    writes) or its project (Linear, made into a feature). Stories with no parent, or one that is
    neither in the file nor imported before, go under one fallback feature (see the plan)."""
    by_id = {r.external_id: r.key for r in result.records if r.kind == "feature" and r.external_id}
    keys = {r.key for r in result.records}
    groups: dict[str, Record] = {}
    for record in result.records:
        if record.kind != "story":
            continue
        record.parent = by_id.get(record.parent, record.parent)
        parent = record.parent
        if tool == Tool.LINEAR and parent and parent not in keys and parent not in groups:
            groups[parent] = Record(
                line=record.line,
                key=parent,
                kind="feature",
                title=parent.removeprefix("project:"),
                fixed_status=FeatureStatus.BACKLOG,
                synthetic=True,
            )
    # Features first, so a story's feature exists when the story is written.
    result.records = (
        list(groups.values())
        + [r for r in result.records if r.kind in ("feature", "idea")]
        + [r for r in result.records if r.kind not in ("feature", "idea")]
    )


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _parse_trello(text: str, mapping: dict[str, Any]) -> Parsed:
    try:
        board = read_json(text, Tool.TRELLO)
    except ValidationError as exc:
        return Parsed(errors=[RowError(1, "", " ".join(exc.messages))])
    lists = {
        str(item.get("id")): item
        for item in board["lists"]
        if isinstance(item, dict) and item.get("id")
    }
    checklists: dict[str, list[dict]] = {}
    for checklist in _list(board.get("checklists")):
        if isinstance(checklist, dict):
            checklists.setdefault(str(checklist.get("idCard")), []).append(checklist)
    kind = mapping.get("target") or "feature"
    result = Parsed(headers=[], row_count=len(board["cards"]))
    seen: set[str] = set()
    for number, card in enumerate(board["cards"][:MAX_ROWS], start=1):
        if not isinstance(card, dict):
            result.errors.append(RowError(number, "card", "Not a card."))
            continue
        key = str(card.get("id") or "")
        title = _title(str(card.get("name") or ""))
        errors = []
        if not key or key in seen:
            errors.append(
                RowError(number, "id", "The card has no id, or the id of another card.", key)
            )
        if not title:
            errors.append(RowError(number, "name", "The card has no name."))
        if errors:
            result.errors.extend(errors)
            continue
        seen.add(key)
        trello_list = lists.get(str(card.get("idList")), {})
        archived = bool(card.get("closed")) or bool(trello_list.get("closed"))
        status = TRELLO_ARCHIVED if archived else str(trello_list.get("name") or "(no list)")
        description = str(card.get("desc") or "").strip()
        for checklist in checklists.get(key, []):
            items = [
                f"- [{'x' if i.get('state') == 'complete' else ' '}] {i.get('name', '')}"
                for i in _list(checklist.get("checkItems"))
                if isinstance(i, dict)
            ]
            description += f"\n\n**{checklist.get('name') or 'Checklist'}**\n" + "\n".join(items)
        result.records.append(
            Record(
                line=number,
                key=key,
                kind=kind,
                title=title,
                description=description.strip(),
                status=status,
            )
        )
    if len(board["cards"]) > MAX_ROWS:
        result.errors.append(
            RowError(MAX_ROWS + 1, "", f"A board may hold at most {MAX_ROWS:,} cards.")
        )
    return result
