"""Signals of the core that other apps listen to (pm never imports them).

``activity_bulk_recorded`` is sent, inside the write's transaction, by services that write
activity entries with ``bulk_create`` (which sends no ``post_save``): kwargs ``entries``, the
ActivityLog rows just written."""

from django.dispatch import Signal

activity_bulk_recorded = Signal()
