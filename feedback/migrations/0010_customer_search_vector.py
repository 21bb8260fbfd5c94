"""PostgreSQL only: a stored, GIN-indexed full-text vector of each customer's name ('simple'
configuration: names are not English words to stem), for global search (pm.search) at 20,000
customers."""

from django.db import migrations

from pm.fulltext import stored_vector


class Migration(migrations.Migration):
    dependencies = [("feedback", "0009_embedding_post_kind")]

    operations = [
        stored_vector(
            "feedback_customer",
            "customer_search",
            "to_tsvector('simple'::regconfig, COALESCE(name, ''))",
        )
    ]
