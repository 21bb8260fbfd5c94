"""Signals other apps listen to, so that the backlog never imports them.

``idea_merged`` is sent inside the merge transaction, after the backlog moved what it owns
(votes, the linked feature, earlier merges). Receivers move what *they* own that points at
``source`` (feedback insights, portal votes) to ``target``; an exception rolls the merge back.
A receiver may return ``{"duplicate_voters": n}``: voters who had voted on both ideas, whom
the backlog then counts once in the target's votes (and says so in its history).
"""

from django.dispatch import Signal

# kwargs: source (Idea), target (Idea), actor (User)
idea_merged = Signal()
