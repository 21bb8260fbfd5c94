"""Small helpers for reading the HTML the core app renders."""

import html
import re
from html.parser import HTMLParser

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


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the forms of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._form: list[tuple[str, str]] | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = []
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self._form.append((name, a.get("value", "on")))
            elif kind not in {"submit", "button", "file"}:
                self._form.append((name, a.get("value", "")))
        elif tag == "textarea" and name and "disabled" not in a:
            self._textarea, self._text = name, []
        elif tag == "select" and name and "disabled" not in a:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)
        if self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline right after <textarea>.
            self._form.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value = self._option["value"]
            if value is None:
                value = "".join(self._option["text"]).strip()
            self._options.append((value, self._option["selected"]))
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or self._options[:1]
            for value in chosen:
                self._form.append((self._select, value if isinstance(value, str) else value[0]))
            self._select = None
        elif tag == "form":
            self._form = None


def form_data(content: bytes | str, having: str = "version") -> dict[str, list[str]]:
    """What submitting the page's form that has a field called `having` would post, as a
    dict of lists (pass it to the test client as is)."""
    text = content.decode() if isinstance(content, bytes) else content
    reader = _FormReader()
    reader.feed(text)
    for fields in reader.forms:
        if any(name == having for name, _ in fields):
            data: dict[str, list[str]] = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            return data
    raise AssertionError(f"No form with a field called {having!r} on the page.")
