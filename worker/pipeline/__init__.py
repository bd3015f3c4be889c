"""Plain, testable functions that turn catalogue records into enrichments."""
