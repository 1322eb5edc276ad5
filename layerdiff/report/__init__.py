"""The report: a versioned wire model of a diff, independent of the internal types, with a JSON Schema."""
