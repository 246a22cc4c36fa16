"""The generic stripper's patterns and thresholds, each pinned by a line or page that needs it."""
