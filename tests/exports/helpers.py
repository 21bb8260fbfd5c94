"""Reading exports back as a user's spreadsheet would."""

import csv
import io
import json

from openpyxl import load_workbook


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response) -> list[dict[str, str]]:
    text = body(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def json_rows(response) -> list[dict]:
    return json.loads(body(response))


def xlsx_rows(response) -> list[dict]:
    book = load_workbook(io.BytesIO(body(response)), read_only=True)
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def rows(response, fmt: str) -> list[dict]:
    return {"csv": csv_rows, "json": json_rows, "xlsx": xlsx_rows}[fmt](response)
