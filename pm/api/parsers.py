"""The API's JSON parser: DRF's, plus a bound on nesting depth (a document nested thousands of
levels deep used to exhaust the stack: a 500) and no NUL characters in strings or keys
(PostgreSQL cannot store them)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from pm.input_guard import json_problem


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        problem = json_problem(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data
