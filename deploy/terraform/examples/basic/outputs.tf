output "queue_url" {
  description = "Send alerts here (or subscribe your SNS topics to it)."
  value       = module.triage.queue_url
}

output "dlq_url" {
  description = "Dead letters land here."
  value       = module.triage.dlq_url
}

output "backend_token_secret_arn" {
  description = "Put the backend token into this secret before the first task starts."
  value       = module.triage.backend_token_secret_arn
}

output "service_name" {
  description = "The ECS service."
  value       = module.triage.service_name
}

output "operator_policy_arn" {
  description = "Attach to whoever runs `triage dlq redrive`."
  value       = module.triage.operator_policy_arn
}

output "ingest_url" {
  description = "Webhook base URL (POST <url>/v1/alerts/{source}); point your own DNS name at ingest_alb_dns_name. Null without the gateway."
  value       = module.triage.ingest_url
}

output "ingest_tokens_secret_arn" {
  description = "Put the gateway's per-source tokens (JSON) into this secret."
  value       = module.triage.ingest_tokens_secret_arn
}
