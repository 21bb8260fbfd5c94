"""PostgreSQL only: a stored, GIN-indexed full-text vector of each story's title, for global
search (pm.search) at 50,000 stories without parsing every title per query."""

from django.db import migrations

from pm.fulltext import stored_vector


class Migration(migrations.Migration):
    dependencies = [("backlog", "0006_feature_jira_url_userstory_jira_url")]

    operations = [
        stored_vector(
            "backlog_userstory",
            "story_search",
            "to_tsvector('english'::regconfig, COALESCE(title, ''))",
        )
    ]
