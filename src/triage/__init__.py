"""triage: alert-triage daemon."""
