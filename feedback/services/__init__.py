"""Writes for feedback: customers, feedback items and their triage, insights (and the demand they
put on features), CSV imports, research studies and the public ideas portal.

Every service is keyword-only and atomic, validates, writes, records the activity log and
enqueues its tasks on commit. Backlog rows change only through ``backlog.services``.

Activity entries of product records never carry a customer's name, contact or ARR: the product
history is readable by stakeholders.
"""
