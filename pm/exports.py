"""Exports: the rows a reader sees, as CSV, JSON or XLSX.

Every export — a list page's "Export" menu, the API's `/export/` actions — hands this module the
rows its page or list already reads through the visibility policy (selectors, `pm.visibility`),
as dicts (an API output serializer's representation), and gets a download back:

- CSV is streamed (a generator: memory stays flat whatever the number of rows);
- JSON is streamed too: one array, each row nested as the API renders it;
- XLSX is written row by row by openpyxl's write-only workbook to a temporary file.

Cells are neutralised against formula injection (`neutralise`) in CSV and XLSX: a text that a
spreadsheet would run as a formula (`=HYPERLINK(…)` in a feedback item imported from a CSV) is
exported with a leading apostrophe. JSON keeps every value verbatim (no spreadsheet reads it).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.text import slugify

from pm.choices import Role

FORMATS = ("csv", "json", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Rows serialised at a time: one round of prefetch queries per chunk, flat memory.
CHUNK = 500

# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"): =, +, -, @, and
# a tab or carriage return before one of them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """`value` safe to put in a spreadsheet cell: a text starting like a formula gets a leading
    apostrophe (shown as text by Excel, LibreOffice and Google Sheets); anything else (numbers,
    dates, other texts) unchanged. The one guard every CSV and XLSX cell goes through."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """One value of a row as a flat cell: lists of plain values joined by "; ", nested objects
    (acceptance criteria, dimensions) as compact JSON, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return "; ".join("" if v is None else str(v) for v in value)
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return value


def serialized(
    queryset: QuerySet | Iterable[Model],
    serializer_class: Any,
    context: dict[str, Any] | None = None,
    *,
    prepare: Callable[[list[Any]], Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows of `queryset` as `serializer_class` renders them, CHUNK at a time (one round
    of queries per chunk; `prepare(chunk)` may load what the chunk needs in bulk)."""
    iterator = (
        queryset.iterator(chunk_size=CHUNK) if isinstance(queryset, QuerySet) else iter(queryset)
    )
    chunk: list[Any] = []
    for instance in iterator:
        chunk.append(instance)
        if len(chunk) == CHUNK:
            yield from _render(chunk, serializer_class, context, prepare)
            chunk = []
    if chunk:
        yield from _render(chunk, serializer_class, context, prepare)


def _render(chunk, serializer_class, context, prepare) -> Iterator[dict[str, Any]]:
    if prepare is not None:
        prepare(chunk)
    yield from serializer_class(chunk, many=True, context=context or {}).data


def columns_of(serializer_class: Any, hidden: Iterable[str] = ()) -> list[str]:
    """The columns of an export: the serializer's fields in order, less `hidden` ones (the
    reader's internal fields: no empty column hinting at them)."""
    leave_out = set(hidden)
    return [name for name in serializer_class().fields if name not in leave_out]


def filename(*parts: str, fmt: str) -> str:
    stamp = timezone.localdate().isoformat()
    stem = "-".join(slugify(p) for p in parts if p)
    return f"{stem}-{stamp}.{fmt}"


class _Echo:
    """A file-like object whose write() returns what it was given (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM: Excel reads the file as UTF-8
    yield writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        yield writer.writerow([neutralise(_text(cell(row.get(c)))) for c in columns])


def _text(value: Any) -> Any:
    if isinstance(value, datetime | date | Decimal):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return value


def _json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    yield "["
    first = True
    for row in rows:
        yield ("" if first else ",\n") + encoder.encode(row)
        first = False
    yield "]\n"


def _xlsx_value(value: Any) -> Any:
    value = cell(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: the time as the workspace's clock shows it.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, str):
        # Characters XML 1.0 cannot hold (a NUL that came in through an import) would make
        # openpyxl refuse the whole file.
        value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    return neutralise(value)


def _xlsx_file(title: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or "Export")[:31])
    sheet.append([neutralise(c) for c in columns])
    for row in rows:
        sheet.append([_xlsx_value(row.get(c)) for c in columns])
    # Spooled: in memory up to 8 MB, on disk beyond.
    target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes it)
    workbook.save(target)
    target.seek(0)
    return target


def export_response(
    fmt: str,
    *,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    name: str,
    title: str = "",
) -> HttpResponseBase:
    """The download of `rows` in `fmt` (one of FORMATS) as `name` (a file name with its
    extension). CSV and XLSX have `columns`, in that order; JSON has each row whole."""
    if fmt == "xlsx":
        response: HttpResponseBase = FileResponse(
            _xlsx_file(title, columns, rows),
            as_attachment=True,
            filename=name,
            content_type=CONTENT_TYPES["xlsx"],
        )
    else:
        chunks = _csv_lines(columns, rows) if fmt == "csv" else _json_chunks(rows)
        response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def export_format(value: str | None) -> str | None:
    """The format a request asks for (`?format=`), or None when it names none we write."""
    value = (value or "").strip().lower()
    return value if value in FORMATS else None


def page_export(
    request: Any,
    *,
    product: Any,
    queryset: QuerySet,
    serializer_class: Any,
    name: str,
    extra: dict[str, Callable[[Any], Any]] | None = None,
    prepare: Callable[[list[Any]], Any] | None = None,
) -> HttpResponseBase:
    """A list page's export: `queryset` is what the page shows (its selector, with the page's
    filters and the reader's visibility applied), rendered by the API's `serializer_class`
    plus `extra` columns ({column: instance → value}). The reader's internal fields are left
    out as columns, and so are extra columns named after one (`customer_name`). 400 for a
    format we do not write."""
    from pm import visibility

    fmt = export_format(request.GET.get("format") or "csv")
    if fmt is None:
        return HttpResponse(
            f"Choose a format: {', '.join(FORMATS)}.", status=400, content_type="text/plain"
        )
    viewer = visibility.viewer_of(product)
    hidden = visibility.hidden_fields(queryset.model, viewer, product)
    # An extra column derived from an internal field ("customer_name" from "customer") goes
    # with it: no empty column hinting at it.
    extra = {
        column: value
        for column, value in (extra or {}).items()
        if not any(column == h or column.startswith(f"{h}_") for h in hidden)
    }
    columns = columns_of(serializer_class, hidden) + list(extra)
    context = {
        "roles": {product.workspace_id: product.membership.role},
        "internal": {product.workspace_id} if viewer is not None and viewer.is_team else set(),
        "request": request,
    }

    def load(chunk: list[Any]) -> None:
        for instance in chunk:
            # Every row is of this product: no query per row for its key.
            if getattr(instance, "product_id", None) == product.pk:
                instance._state.fields_cache["product"] = product
        if prepare is not None:
            prepare(chunk)

    def rows() -> Iterator[dict[str, Any]]:
        instances: list[Any] = []
        for instance in queryset.iterator(chunk_size=CHUNK):
            instances.append(instance)
            if len(instances) == CHUNK:
                yield from _with_extra(instances, serializer_class, context, load, extra)
                instances = []
        if instances:
            yield from _with_extra(instances, serializer_class, context, load, extra)

    return export_response(
        fmt,
        rows=rows(),
        columns=columns,
        name=filename(product.key, name, fmt=fmt),
        title=name,
    )


def list_export(
    request: Any,
    key: str,
    *,
    rows: Callable[[Any], QuerySet],
    serializer_class: Any,
    name: str,
    section: str | None = None,
    need: str = Role.STAKEHOLDER,
    extra: dict[str, Callable[[Any], Any]] | None = None,
    prepare: Callable[[list[Any]], Any] | None = None,
) -> HttpResponseBase:
    """An export view's whole body: the product as its page fetches it (the same `section` or
    `need`: 404 for outsiders, 403 for a role or section the page refuses), then `page_export`
    of `rows(product)` — the page's own selector with the page's filters."""
    from pm.permissions import get_product_for_user

    product = get_product_for_user(request.user, key, need=need, section=section)
    return page_export(
        request,
        product=product,
        queryset=rows(product),
        serializer_class=serializer_class,
        name=name,
        extra=extra,
        prepare=prepare,
    )


def _with_extra(chunk, serializer_class, context, load, extra) -> Iterator[dict[str, Any]]:
    load(chunk)
    data = serializer_class(chunk, many=True, context=context).data
    for instance, row in zip(chunk, data, strict=True):
        row = dict(row)
        for column, value in extra.items():
            row[column] = value(instance)
        yield row
