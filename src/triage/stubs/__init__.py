"""Stand-ins for the services triage talks to, for the demo, tests, benchmarks and dev stack."""
