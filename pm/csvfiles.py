"""CSV uploads (feedback import, KPI data points): which delimiter a file uses."""

DELIMITERS = (",", ";", "\t")


def delimiter(text: str) -> str:
    """The delimiter the header row uses most: comma, semicolon (spreadsheets in locales with
    decimal commas) or tab; a comma when the header has none of them (one column).

    Only the header is counted: values — free-text feedback, decimal commas — hold delimiters
    of every kind, column names do not (csv.Sniffer reads the values too and guesses wrong)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
