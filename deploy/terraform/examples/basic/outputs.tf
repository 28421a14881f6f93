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
