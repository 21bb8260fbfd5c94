"""Reading feedback from a CSV file: decoding, column mapping and per-row validation.

Pure functions with no database access, so the preview and the import read a file the same way
(the import re-reads the stored text inside its transaction).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Choices
from django.utils import timezone

from feedback.choices import Sentiment, Source
from pm.csvfiles import delimiter
from pm.fields import EARLIEST_YEAR

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CONTENT = 10_000

REQUIRED_COLUMNS = ("content", "source", "received_at")
OPTIONAL_COLUMNS = ("customer", "segment", "plan", "arr", "contact", "sentiment")
CUSTOMER_DETAIL_COLUMNS = ("segment", "plan", "arr", "contact")
# How an error message names each of them ("An ARR needs a customer name.").
CUSTOMER_DETAIL_LABELS = {
    "segment": "A segment",
    "plan": "A plan",
    "arr": "An ARR",
    "contact": "A contact",
}

# Header spellings people actually use, mapped to our column names.
ALIASES = {
    "feedback": "content",
    "text": "content",
    "comment": "content",
    "comments": "content",
    "message": "content",
    "date": "received_at",
    "received": "received_at",
    "received_on": "received_at",
    "received_date": "received_at",
    "customer_name": "customer",
    "company": "customer",
    "account": "customer",
    "channel": "source",
    "annual_recurring_revenue": "arr",
    "email": "contact",
}

ENCODINGS = [
    ("utf-8", "UTF-8 (recommended; Excel: “CSV UTF-8”)"),
    ("cp1252", "Windows / Excel (Western, cp1252)"),
    ("latin-1", "ISO-8859-1 (Latin-1)"),
    ("utf-16", "UTF-16 (Excel “Unicode text”)"),
]

_SENTIMENT_WORDS = {
    "+": Sentiment.POSITIVE,
    "pos": Sentiment.POSITIVE,
    "good": Sentiment.POSITIVE,
    "-": Sentiment.NEGATIVE,
    "neg": Sentiment.NEGATIVE,
    "bad": Sentiment.NEGATIVE,
    "0": Sentiment.NEUTRAL,
    "": Sentiment.NEUTRAL,
}
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass
class ParsedRow:
    """One valid row, ready to become a feedback item."""

    line: int
    content: str
    source: str
    sentiment: str
    received_at: datetime
    customer: str = ""
    customer_details: dict = field(default_factory=dict)

    @property
    def source_label(self) -> str:
        return Source(self.source).label

    @property
    def sentiment_label(self) -> str:
        return Sentiment(self.sentiment).label


@dataclass
class RowError:
    line: int
    column: str
    message: str
    value: str = ""


@dataclass
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    row_count: int = 0

    @property
    def invalid_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def invalid_count(self) -> int:
        return len(self.invalid_lines)

    @property
    def customer_names(self) -> dict[str, str]:
        """Customer names used by valid rows, keyed by their lower-case form."""
        names: dict[str, str] = {}
        for row in self.rows:
            if row.customer:
                names.setdefault(row.customer.lower(), row.customer)
        return names


def _line_of(raw: bytes, position: int) -> int:
    return raw.count(b"\n", 0, position) + 1


def decode(raw: bytes, encoding: str) -> str:
    """The file's text, or a ValidationError that says what to do about it."""
    if len(raw) > MAX_BYTES:
        raise ValidationError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into parts."
        )
    if not raw.strip():
        raise ValidationError("The file is empty.")
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValidationError(
            "This is a spreadsheet (Excel) file, not CSV. In Excel choose "
            "File › Save As › “CSV UTF-8 (comma delimited)” and upload that."
        )
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"  # a UTF-16 byte-order mark is unambiguous
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"This file is not valid {encoding.upper()} text (unreadable byte "
            f"0x{raw[exc.start]:02x} on line {_line_of(raw, exc.start)}). Choose the encoding "
            "it was saved with below — files from Excel on Windows are usually “Windows / "
            "Excel” — or save it as “CSV UTF-8” and upload again."
        ) from None
    except LookupError:
        raise ValidationError(f"Unknown encoding {encoding!r}.") from None
    if "\x00" in text:
        raise ValidationError(
            "This file contains NUL bytes: it is probably UTF-16 or not a text file. "
            "Choose “UTF-16” below, or save it as “CSV UTF-8”."
        )
    return text


def _normalise_header(name: str) -> str:
    key = re.sub(r"[\s\-/]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(key, key)


def _choice(value: str, choices: type[Choices], words: dict | None = None) -> str | None:
    key = value.strip().lower()
    if words and key in words:
        return words[key]
    slug = re.sub(r"[\s\-]+", "_", key)
    for choice_value, label in choices.choices:
        if slug == choice_value or key == label.lower():
            return choice_value
    return None


def parse_received_at(value: str, tz: ZoneInfo) -> datetime | None:
    """ISO dates and date-times only: 2026-11-30, 2026-11-30 14:05, 2026-11-30T14:05:00Z.
    Day/month orders such as 03/04/2026 are ambiguous and refused."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(12, 0))
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def parse_arr(value: str) -> Decimal | None:
    """An amount such as 12000, 12,000.50 or €12 000; None when it is not a number."""
    cleaned = re.sub(r"[\s$€£]", "", value.strip())
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(Decimal("0.01"))


def parse(text: str, *, tz: ZoneInfo | None = None) -> ParseResult:
    """Read every row; collect what is wrong with each row instead of stopping at the first."""
    tz = tz or timezone.get_current_timezone()
    result = ParseResult()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        result.missing_columns = list(REQUIRED_COLUMNS)
        return result
    except csv.Error as exc:
        result.errors.append(RowError(1, "", f"The header row cannot be read: {exc}."))
        result.missing_columns = list(REQUIRED_COLUMNS)
        return result
    columns = [_normalise_header(h) for h in header]
    result.columns = columns
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    result.missing_columns = [c for c in REQUIRED_COLUMNS if c not in columns]
    result.ignored_columns = [h for h, c in zip(header, columns, strict=True) if c not in known]
    if result.missing_columns:
        return result
    index: dict[str, int] = {}
    for position, name in enumerate(columns):
        index.setdefault(name, position)
    now = timezone.now()

    while True:
        # Report the line a record starts on (quoted text may span several lines).
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.row_count += 1
            result.errors.append(RowError(line, "", f"This line cannot be read as CSV: {exc}."))
            continue
        if not any(cell.strip() for cell in record):
            continue
        result.row_count += 1
        if result.row_count > MAX_ROWS:
            result.errors.append(
                RowError(line, "", f"A file may hold at most {MAX_ROWS:,} rows; split it.")
            )
            break
        errors = _check_row(record, index, line, tz, now, result)
        result.errors.extend(errors)
    return result


def _check_row(record, index, line, tz, now, result) -> list[RowError]:
    def cell(name: str) -> str:
        position = index.get(name)
        if position is None or position >= len(record):
            return ""
        return record[position].strip()

    errors: list[RowError] = []
    if len(record) > len(result.columns):
        errors.append(
            RowError(
                line,
                "",
                f"{len(record)} cells but the header has {len(result.columns)}; "
                "is a comma inside text missing its quotes?",
            )
        )
    content = cell("content")
    if not content:
        errors.append(RowError(line, "content", "The feedback text is empty."))
    elif len(content) > MAX_CONTENT:
        errors.append(
            RowError(line, "content", f"Longer than {MAX_CONTENT:,} characters.", content[:60])
        )
    raw_source = cell("source")
    source = _choice(raw_source, Source)
    if source is None:
        allowed = ", ".join(label.lower() for _v, label in Source.choices)
        message = "The source is empty." if not raw_source else f"Use one of: {allowed}."
        errors.append(RowError(line, "source", message, raw_source))
    raw_sentiment = cell("sentiment")
    sentiment = _choice(raw_sentiment, Sentiment, _SENTIMENT_WORDS)
    if sentiment is None:
        errors.append(
            RowError(line, "sentiment", "Use positive, neutral or negative.", raw_sentiment)
        )
    raw_received = cell("received_at")
    received_at = parse_received_at(raw_received, tz)
    if received_at is None:
        message = (
            "The date is empty."
            if not raw_received
            else "Use a date such as 2026-11-30 or 2026-11-30 14:05."
        )
        errors.append(RowError(line, "received_at", message, raw_received))
    elif received_at > now + timedelta(days=1):
        errors.append(RowError(line, "received_at", "The date is in the future.", raw_received))
    elif received_at.year < EARLIEST_YEAR:
        message = f"Use a date from {EARLIEST_YEAR} on."
        errors.append(RowError(line, "received_at", message, raw_received))
    customer = cell("customer")
    details: dict = {}
    if len(customer) > 120:
        errors.append(RowError(line, "customer", "Longer than 120 characters.", customer[:60]))
    for name in CUSTOMER_DETAIL_COLUMNS:
        value = cell(name)
        if not value:
            continue
        if not customer:
            label = CUSTOMER_DETAIL_LABELS.get(name, name)
            errors.append(RowError(line, name, f"{label} needs a customer name.", value))
            continue
        if name == "arr":
            amount = parse_arr(value)
            if amount is None or amount < 0 or amount >= Decimal("1e12"):
                errors.append(RowError(line, "arr", "Use a positive amount such as 12000.", value))
                continue
            details["arr"] = amount
        else:
            limit = 200 if name == "contact" else 60
            if len(value) > limit:
                errors.append(RowError(line, name, f"Longer than {limit} characters.", value[:60]))
                continue
            details[name] = value
    # Each None above added an error; the type checker needs the checks spelled out.
    if not errors and source is not None and sentiment is not None and received_at is not None:
        result.rows.append(
            ParsedRow(
                line=line,
                content=content,
                source=source,
                sentiment=sentiment,
                received_at=received_at,
                customer=customer,
                customer_details=details,
            )
        )
    return errors
