from django.db import models


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Aggregation(models.TextChoices):
    SUM = "sum", "Sum of values"
    AVERAGE = "average", "Average of values"
    COUNT = "count", "Count of data points"
    LAST = "last", "Last value"
    RATIO = "ratio", "Ratio of two KPIs"


class Granularity(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    CONCLUDED = "concluded", "Concluded"


class DataSource(models.TextChoices):
    """Where a funnel's (or an experiment's) numbers come from."""

    MANUAL = "manual", "Typed-in counts"
    EVENTS = "events", "Computed from events"


class EventMeasure(models.TextChoices):
    """What an events KPI measures of its event, per period."""

    COUNT = "count", "Number of events"
    UNIQUE = "unique", "Unique users"
    SUM = "sum", "Sum of a property"
