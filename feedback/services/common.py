"""What the feedback services share: the field lists each accepts, and how activity entries
shorten text and hide customers."""

from __future__ import annotations

from typing import Any

CUSTOMER_FIELDS = {"name", "segment", "plan", "arr", "contact"}
FEEDBACK_FIELDS = {"content", "source", "sentiment", "received_at", "customer"}
STUDY_FIELDS = {
    "title",
    "kind",
    "status",
    "goal",
    "participant_notes",
    "summary",
    "started_on",
    "ended_on",
}
PORTAL_FIELDS = {"enabled", "accept_submissions", "title", "intro"}
# Shown in activity entries instead of a customer's identity (see the module docstring).
REDACTED = "(customer details hidden)"


def _reject_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"These fields cannot be set here: {sorted(unknown)}")


def _excerpt(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
