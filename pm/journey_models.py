"""User journey maps: per persona, the stages a user goes through, what they do, where, what they
think and feel, and what hurts — with the opportunities the team sees at each stage linked to the
features, ideas and feedback that answer or evidence them.

Imported at the end of pm.models, which Django loads first (the classes are pm's models)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from pm.models import Persona, Product, Versioned
from pm.visibility import Rules, Section, in_section

# Journeys are strategy: every member and stakeholder reads them, share links and portals do not.
_STRATEGY = in_section(Section.STRATEGY)

# The emotion scale of a stage: a journey map draws it as a line from frustrated to delighted.
EMOTION_MIN, EMOTION_MAX = -2, 2
EMOTION_LABELS = {
    -2: "Frustrated",
    -1: "Unhappy",
    0: "Neutral",
    1: "Content",
    2: "Delighted",
}


class Journey(Versioned):
    """One persona's path towards a goal (e.g. "Evaluate and buy", "First week")."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="journeys")
    # A journey without its persona keeps its stages (the map is still evidence): SET_NULL.
    persona = models.ForeignKey(
        Persona, on_delete=models.SET_NULL, null=True, related_name="journeys"
    )
    name = models.CharField(max_length=120)
    goal = models.TextField(
        blank=True, max_length=2000, help_text="What the persona wants to achieve, in their words."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=_STRATEGY)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "persona", "name"], name="journey_name_unique_per_persona"
            )
        ]

    def __str__(self) -> str:
        return self.name


class JourneyStage(Versioned):
    """A column of the map: a stage with the persona's actions, touchpoints, thoughts and pains,
    and how they feel there."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=80)
    actions = models.TextField(blank=True, max_length=2000, help_text="What they do.")
    touchpoints = models.TextField(
        blank=True, max_length=1000, help_text="Where: channels, screens, people."
    )
    thoughts = models.TextField(blank=True, max_length=2000, help_text="What they think or ask.")
    pains = models.TextField(blank=True, max_length=2000, help_text="What gets in their way.")
    emotion = models.SmallIntegerField(
        default=0,
        validators=[MinValueValidator(EMOTION_MIN), MaxValueValidator(EMOTION_MAX)],
        help_text="From −2 (frustrated) to +2 (delighted).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=_STRATEGY)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def emotion_label(self) -> str:
        return EMOTION_LABELS.get(self.emotion, "")


class JourneyOpportunity(models.Model):
    """Something the team could do better at a stage, with the backlog item that answers it and
    the idea or feedback that shows the need. Links are optional; a reader sees only the links
    the visibility policy gives them."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(JourneyStage, on_delete=models.CASCADE, related_name="opportunities")
    text = models.CharField(max_length=300)
    feature = models.ForeignKey(
        "backlog.Feature", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idea = models.ForeignKey(
        "backlog.Idea", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    feedback = models.ForeignKey(
        "feedback.FeedbackItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    visibility_rules = Rules(rows=_STRATEGY)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "journey opportunities"

    def __str__(self) -> str:
        return self.text
