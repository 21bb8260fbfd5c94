from __future__ import annotations

from typing import Any

from django import forms

from feedback import csvimport
from feedback.choices import Source
from imports import formats
from imports.choices import Tool

NOT_IN_FILE = ""


class UploadForm(forms.Form):
    tool = forms.ChoiceField(label="Exported from", choices=Tool.choices, initial=Tool.JIRA)
    file = forms.FileField(
        label="Export file",
        help_text="Up to 10 MB. You map the columns and see a preview before anything is imported.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,text/csv,application/json"}),
    )
    encoding = forms.ChoiceField(
        choices=csvimport.ENCODINGS,
        initial="utf-8",
        help_text="For CSV files; Trello's JSON is always UTF-8.",
    )


class MappingForm(forms.Form):
    """Their columns → our fields, their statuses → ours, and the choices each tool offers.
    Built from the file: one select per field the tool's export has, one per status found."""

    def __init__(
        self,
        *args: Any,
        tool: str,
        mapping: dict[str, Any],
        headers: list[str],
        status_keys: list[str],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.tool = tool
        columns = mapping.get("columns") or {}
        header_choices = [(NOT_IN_FILE, "— not in the file —")] + [
            (h, h) for h in dict.fromkeys(headers) if h
        ]
        self.column_names = []
        for name in formats.COLUMNS.get(tool, {}):
            field_name = f"col_{name}"
            self.fields[field_name] = forms.ChoiceField(
                label=formats.FIELD_LABELS[name],
                choices=header_choices,
                required=name in formats.REQUIRED[tool],
                initial=columns.get(name, ""),
            )
            self.column_names.append(field_name)
        # In the file's order (the stored mapping, JSON in PostgreSQL, keeps none).
        statuses = mapping.get("statuses") or {}
        self.status_keys = [(key, statuses[key]) for key in status_keys if key in statuses]
        self.status_names = []
        for number, (key, chosen) in enumerate(self.status_keys):
            kind, _sep, theirs = key.partition(":")
            field_name = f"status_{number}"
            self.fields[field_name] = forms.ChoiceField(
                label=theirs or "(no status)",
                choices=formats.STATUS_CHOICES[kind],
                initial=chosen,
            )
            self.fields[field_name].kind_label = formats.KIND_LABELS[kind]  # type: ignore[attr-defined]
            self.status_names.append(field_name)
        self.option_names = []
        if tool in formats.TARGETS:
            self.fields["target"] = forms.ChoiceField(
                label="Import the records as",
                choices=formats.TARGETS[tool],
                initial=mapping.get("target"),
            )
            self.option_names.append("target")
        if tool == Tool.JIRA:
            self.fields["comments"] = forms.BooleanField(
                label="Import comments as feedback",
                required=False,
                initial=mapping.get("comments"),
                help_text="Each comment becomes a feedback item, dated when it was written.",
            )
            self.fields["jira_site"] = forms.URLField(
                label="Your Jira site",
                required=False,
                max_length=200,
                initial=mapping.get("jira_site"),
                help_text=(
                    "Such as https://acme.atlassian.net: features and stories then link to "
                    "their issue."
                ),
            )
            self.option_names += ["comments", "jira_site"]
        if tool in (Tool.JIRA, Tool.PRODUCTBOARD_NOTES):
            self.fields["source"] = forms.ChoiceField(
                label="Feedback source", choices=Source.choices, initial=mapping.get("source")
            )
            self.option_names.append("source")

    @property
    def column_fields(self) -> list:
        return [self[n] for n in self.column_names]

    @property
    def status_fields(self) -> list:
        return [self[n] for n in self.status_names]

    @property
    def option_fields(self) -> list:
        return [self[n] for n in self.option_names]

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        mapping: dict[str, Any] = {
            "columns": {n.removeprefix("col_"): data.get(n) or "" for n in self.column_names},
            "statuses": {
                key: data[f"status_{number}"] for number, (key, _c) in enumerate(self.status_keys)
            },
        }
        for name in self.option_names:
            mapping[name] = data.get(name)
        return mapping
