"""Listening pipelines: watch rules, negative-buzz alerts, the webcare inbox: issue 7."""
