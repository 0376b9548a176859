"""The vendored upstream tests run only in their own subprocess (``test_upstream_pubsub.py``)."""

# Collected here they would run on channels-redis' own layer, with none of the substitution.
collect_ignore = ["upstream"]
