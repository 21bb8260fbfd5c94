"""Bodies for chat incoming webhooks: Slack (Block Kit) and Microsoft Teams (MessageCard), from
the same event payload the signed webhooks carry."""

from __future__ import annotations

from typing import Any

COLOURS = {"feature.shipped": "2EB67D", "feedback.critical": "E01E5A", "kpi.off_target": "ECB22E"}


def summary(payload: dict) -> dict[str, Any]:
    """Title, text, facts and link for one event, as words."""
    event = payload.get("event", "")
    data = payload.get("data") or {}
    obj = payload.get("object") or {}
    product = payload.get("product", "")
    url = obj.get("url", "")
    facts: list[tuple[str, str]] = [("Product", product)]
    if event == "feature.shipped":
        title = f"Shipped: {data.get('title', '')}"
        text = (data.get("description") or "")[:300]
        facts.append(("Status", "Shipped"))
    elif event == "feedback.critical":
        title = "New critical feedback"
        text = (data.get("content") or "")[:500]
        facts.append(("Source", str(data.get("source", ""))))
        insight = payload.get("insight") or {}
        if insight.get("linked_to"):
            facts.append(("Linked to", insight["linked_to"]))
    elif event == "kpi.off_target":
        title = f"KPI off target: {data.get('name', '')}"
        target = payload.get("target") or {}
        text = (
            f"Latest {target.get('latest', '—')} {data.get('unit', '')} against a target of "
            f"{target.get('target', '—')} {data.get('unit', '')} "
            f"({target.get('progress_percent', '—')}% of the way)."
        ).replace("  ", " ")
    else:
        name = data.get("title") or data.get("name") or obj.get("type", "")
        title = f"{event}: {name}"
        text = ""
    return {"title": title, "text": text, "facts": facts, "url": url, "event": event}


def slack(payload: dict) -> dict:
    s = summary(payload)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": s["title"][:150]}},
    ]
    if s["text"]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(s["text"])}})
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{_mrkdwn(k)}*\n{_mrkdwn(v)}"} for k, v in s["facts"]
            ],
        }
    )
    if s["url"]:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Lodestar"},
                        "url": s["url"],
                    }
                ],
            }
        )
    return {"text": s["title"], "blocks": blocks}


def _mrkdwn(text: str) -> str:
    """Slack's three escapes; everything else is shown as typed."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams(payload: dict) -> dict:
    s = summary(payload)
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": s["title"],
        "themeColor": COLOURS.get(s["event"], "4F46E5"),
        "title": s["title"],
        "sections": [
            {
                "activityTitle": s["title"],
                "text": s["text"],
                "facts": [{"name": k, "value": v} for k, v in s["facts"]],
            }
        ],
    }
    if s["url"]:
        card["potentialAction"] = [
            {
                "@type": "OpenUri",
                "name": "Open in Lodestar",
                "targets": [{"os": "default", "uri": s["url"]}],
            }
        ]
    return card
