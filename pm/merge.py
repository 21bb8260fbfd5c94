"""Three-way merge for edit forms after an edit conflict.

An edit form carries, next to the version it was opened at, the values it was opened with (the
hidden `base` field). When saving hits an EditConflict, `conflicted_form` compares per field:

- base   — what the form showed when this person opened it,
- theirs — what is stored now (someone else saved in between),
- mine   — what this person submitted.

A field only they changed takes their value; a field only this person changed keeps theirs;
a field both changed to different values is a conflict the person resolves, seeing both values
side by side ("keep mine" / "keep theirs"). Nothing is saved until the person saves the merged
form again, and that save writes only what differs from the stored row.

Without a `base` (a client that does not send it), every field that differs from the stored
row counts as a conflict: never silently the stale value.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django import forms
from django.db import models
from django.db.models.query import QuerySet
from django.http import QueryDict
from django.utils import timezone

if TYPE_CHECKING:
    # For mypy, the mixin is the form it is mixed into (VersionedForm: MergeMixin, ModelForm).
    _FormBase = forms.BaseForm
else:
    _FormBase = object

BASE_FIELD = "base"
RESOLVE_PREFIX = "resolve-"
MINE, THEIRS = "mine", "theirs"
_MAX_BASE_CHARS = 1_000_000
_SKIP = {"version", BASE_FIELD}


def canon(value: Any) -> Any:
    """A JSON-safe value that is equal for equal field values, whatever their Python form:
    a model and its pk, Decimal("2.50") and Decimal("2.5"), "text\\r\\n" and "text"."""
    if value is None or value == "":
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, QuerySet | set | frozenset):
        return sorted(canon(v) for v in value)
    if isinstance(value, list | tuple):
        items = [canon(v) for v in value]
        # Lists of records (many-to-many) compare as sets; other lists keep their order.
        return sorted(items) if all(isinstance(v, models.Model) for v in value) else items
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(UTC)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value)).normalize()
        except InvalidOperation:
            return str(value)
        return format(number, "f")
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return str(value)


def display(field: forms.Field, value: Any) -> str:
    """A stored or submitted value as the person saw it in the form: choice labels, names of
    records, Yes/No, and "(empty)" for nothing."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = [v.pk if isinstance(v, models.Model) else v for v in value]
        rows = field.queryset.filter(pk__in=pks) if field.queryset is not None else []
        return ", ".join(field.label_from_instance(o) for o in rows)
    if isinstance(field, forms.ModelChoiceField):
        obj = value
        if not isinstance(value, models.Model) and field.queryset is not None:
            obj = field.queryset.filter(pk=value).first()
        return field.label_from_instance(obj) if obj is not None else str(value)
    if isinstance(field, forms.ChoiceField):
        labels = {}
        for key, label in field.choices:  # type: ignore[misc,union-attr]  # a form field's choices are normalised to a list of pairs by then
            if isinstance(label, list | tuple):  # an optgroup
                labels.update({str(k): str(v) for k, v in label})
            else:
                labels[str(key)] = str(label)
        return labels.get(str(value), str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%d %b %Y %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%d %b %Y %H:%M")
        )
    if isinstance(value, date):
        return value.strftime("%d %b %Y")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _raw(field: forms.Field, value: Any) -> list[str]:
    """What the field's widget would post for `value` (a list, for QueryDict.setlist)."""
    widget = field.widget
    prepared = field.prepare_value(value)
    if isinstance(widget, forms.CheckboxInput):
        return ["on"] if prepared else []
    if isinstance(prepared, list | tuple):
        return [str(v) for v in prepared]
    formatted = widget.format_value(prepared)
    if formatted is None:
        return [""]
    if isinstance(formatted, list | tuple):
        return [str(v) for v in formatted] or [""]
    return [str(formatted)]


@dataclass
class MergeState:
    """What the hidden `base` field carries: the values the form started from and, after a
    conflict, what the other person saved and which fields still need a decision."""

    values: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    who: str = ""
    known: bool = False

    def encode(self) -> str:
        payload: dict[str, Any] = {"v": self.values}
        if self.theirs:
            payload["t"] = self.theirs
        if self.conflicts:
            payload["c"] = self.conflicts
        if self.who:
            payload["w"] = self.who
        return json.dumps(payload, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: Any) -> "MergeState":
        """The state a client posted; anything malformed counts as no base at all."""
        if not isinstance(raw, str) or not raw or len(raw) > _MAX_BASE_CHARS:
            return cls()
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            return cls()
        if not isinstance(payload, dict) or not isinstance(payload.get("v"), dict):
            return cls()
        theirs = payload["t"] if isinstance(payload.get("t"), dict) else {}
        conflicts = payload["c"] if isinstance(payload.get("c"), list) else []
        return cls(
            values=payload["v"],
            theirs={str(k): str(v) for k, v in theirs.items()},
            conflicts=[str(c) for c in conflicts],
            who=str(payload.get("w") or ""),
            known=True,
        )


@dataclass(frozen=True)
class FieldNote:
    """Shown next to one field of a merged form."""

    kind: str  # "conflict": both changed it; "theirs": only the other person did
    theirs: str
    who: str
    resolve_name: str
    choice: str


class MergeMixin(_FormBase):
    """For edit forms: carries the opened-with values in a hidden `base` field, and on the save
    after a conflict requires a decision for each field both people changed."""

    def _init_merge(self, editing: bool) -> None:
        self.merge_editing = editing
        self.require_resolution = True
        if not editing:
            return
        self.fields[BASE_FIELD] = forms.CharField(widget=forms.HiddenInput, required=False)
        if not self.is_bound:
            # A callable, evaluated when the hidden field renders: after subclasses finished
            # their __init__ (disabling fields, changing help texts of cached bound fields).
            self.initial[BASE_FIELD] = lambda: MergeState(values=self.merge_values()).encode()

    def merge_fields(self) -> dict[str, forms.Field]:
        return {name: f for name, f in self.fields.items() if name not in _SKIP and not f.disabled}

    def merge_values(self) -> dict[str, Any]:
        """Canonical values of an unbound form: what it shows."""
        return {name: canon(self[name].initial) for name in self.merge_fields()}

    @property
    def merge_state(self) -> MergeState:
        if not getattr(self, "merge_editing", False) or not self.is_bound:
            return MergeState()
        return MergeState.decode(self.data.get(BASE_FIELD))

    def merge_note(self, name: str) -> FieldNote | None:
        state = self.merge_state
        if name not in state.theirs:
            return None
        return FieldNote(
            kind="conflict" if name in state.conflicts else "theirs",
            theirs=state.theirs[name],
            who=state.who or "Someone else",
            resolve_name=f"{RESOLVE_PREFIX}{name}",
            choice=str(self.data.get(f"{RESOLVE_PREFIX}{name}") or ""),
        )

    def clean_merge(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """Apply "keep theirs" decisions; insist on a decision for every conflicting field."""
        state = self.merge_state
        for name in state.conflicts:
            field_ = self.fields.get(name)
            if field_ is None or name in _SKIP:
                continue
            choice = self.data.get(f"{RESOLVE_PREFIX}{name}")
            if choice == THEIRS:
                try:
                    cleaned[name] = field_.clean(
                        field_.prepare_value(self.get_initial_for_field(field_, name))
                    )
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
            elif choice != MINE and self.require_resolution:
                who = state.who or "Someone else"
                self.add_error(
                    name, f"{who} changed this too: choose whether to keep your value or theirs."
                )
        return cleaned


def _who(conflict) -> str:
    names = []
    for entry in conflict.entries:
        actor = entry.actor
        name = (actor.get_full_name() or actor.username) if actor else "Lodestar"
        if name not in names:
            names.append(name)
    return " and ".join(names) or "Someone else"


def merged_form(form_class, data: QueryDict, conflict, **kwargs):
    """The three-way merge of `data` (mine) with the stored row (theirs, `kwargs` build the
    form for it — `instance=conflict.current`, or `initial=` for plain forms) over the base the
    form was opened with. Returns the form bound to the merged values and the current version,
    with a note per field the other person changed."""
    theirs_form = form_class(**kwargs)
    mine_form = form_class(data, **kwargs)
    mine_form.require_resolution = False
    mine_form.is_valid()
    state = mine_form.merge_state if isinstance(mine_form, MergeMixin) else MergeState()
    who = _who(conflict)

    merged = data.copy()
    for key in [k for k in merged if k.startswith(RESOLVE_PREFIX)]:
        del merged[key]  # a new conflict asks again
    new_base: dict[str, Any] = {}
    theirs_notes: dict[str, str] = {}
    conflicts: list[str] = []
    fields_ = theirs_form.merge_fields() if isinstance(theirs_form, MergeMixin) else {}
    for name, field_ in fields_.items():
        theirs_value = theirs_form[name].initial
        theirs_c = canon(theirs_value)
        new_base[name] = theirs_c
        if name in mine_form.cleaned_data:
            mine_c = canon(mine_form.cleaned_data[name])
        else:  # invalid input: it is certainly this person's own edit
            mine_c = ["invalid", data.getlist(name)]
        if state.known and name in state.values:
            base_c = state.values[name]
            mine_changed, theirs_changed = mine_c != base_c, theirs_c != base_c
        else:
            mine_changed = theirs_changed = mine_c != theirs_c
        if not theirs_changed or mine_c == theirs_c:
            continue
        theirs_notes[name] = display(field_, theirs_value)
        if mine_changed:
            conflicts.append(name)
        else:
            merged.setlist(name, _raw(field_, theirs_value))

    merged["version"] = str(conflict.current.version)
    merged[BASE_FIELD] = MergeState(
        values=new_base, theirs=theirs_notes, conflicts=conflicts, who=who
    ).encode()
    form = form_class(merged, **kwargs)
    form.require_resolution = False
    form.is_valid()
    form.require_resolution = True
    form.merge_conflicts = conflicts
    form.merge_taken = [n for n in theirs_notes if n not in conflicts]
    return form


def merge_message(form, conflict) -> str:
    """The alert above a merged form: who saved what, and what this person has to do."""
    labels = {name: str(form.fields[name].label or name) for name in form.fields}
    conflicts = [labels.get(n, n) for n in getattr(form, "merge_conflicts", [])]
    taken = [labels.get(n, n) for n in getattr(form, "merge_taken", [])]
    parts = [conflict.message().split(" Nothing was overwritten")[0]]
    if taken:
        parts.append(
            f"Their {', '.join(taken)} {'is' if len(taken) == 1 else 'are'} now in the form."
        )
    if conflicts:
        parts.append(
            f"You both changed {', '.join(conflicts)}: for each, choose whether to keep your "
            "value or theirs, then save."
        )
    else:
        parts.append("Nothing was saved yet: your changes are kept in the form — save again.")
    return " ".join(parts)
