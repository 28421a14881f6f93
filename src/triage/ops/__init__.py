"""Operations: `triage check`, the dead-letter commands, the endpoint server (`/healthz`,
`/readyz`, `/metrics`) and the metrics exporters."""
