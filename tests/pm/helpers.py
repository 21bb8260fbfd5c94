"""Small helpers for reading the HTML the core app renders."""

import html
import re

HX = {"HX-Request": "true"}


def field_errors(content: bytes | str, field: str, prefix: str = "id_") -> list[str]:
    """The error messages rendered beside `field` (templates/components/field.html)."""
    text = content.decode() if isinstance(content, bytes) else content
    match = re.search(
        rf'<ul class="errorlist" id="{prefix}{field}_errors">(.*?)</ul>', text, re.DOTALL
    )
    if not match:
        return []
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.DOTALL)]


def alert_text(content: bytes | str) -> str:
    """The text of the form's non-field alert (components/form_errors.html), unescaped."""
    text = content.decode() if isinstance(content, bytes) else content
    match = re.search(r'role="alert">((?:<div>.*?</div>)+|[^<]*)</div>', text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


def input_value(content: bytes | str, name: str) -> str | None:
    """The value attribute of the input called `name`."""
    text = content.decode() if isinstance(content, bytes) else content
    for tag in re.findall(r"<input[^>]*>", text):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            value = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(value.group(1)) if value else ""
    return None


def text_of(content: bytes | str) -> str:
    """The page's text without tags, entities decoded, whitespace collapsed."""
    text = content.decode() if isinstance(content, bytes) else content
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
