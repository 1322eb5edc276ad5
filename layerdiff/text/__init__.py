"""Text about image content that every stage may need: how a credential is recognised and cut out, and
plain wording helpers. The lowest layer of the package: it imports nothing of layerdiff but its model and
errors, so rules, the report and whatever prints a string can all use it."""
