output "queue_url" {
  description = "URL of the alerts queue (ALERT_TRIAGE_QUEUE_URL); point SNS subscriptions and `triage send` here."
  value       = aws_sqs_queue.main.url
}

output "queue_arn" {
  description = "ARN of the alerts queue."
  value       = aws_sqs_queue.main.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue (`triage dlq peek` finds it from the redrive policy)."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue; alarm on its ApproximateNumberOfMessagesVisible."
  value       = aws_sqs_queue.dlq.arn
}

output "table_name" {
  description = "Name of the incidents table (TRIAGE_STORE_URL=dynamodb://NAME)."
  value       = aws_dynamodb_table.incidents.name
}

output "table_arn" {
  description = "ARN of the incidents table."
  value       = aws_dynamodb_table.incidents.arn
}

output "backend_token_secret_arn" {
  description = "ARN of the backend token secret (BACKEND_TOKEN_SECRET_ID); set its value with put-secret-value."
  value       = local.backend_token_secret_arn
}

output "execution_role_arn" {
  description = "ARN of the task execution role (image pull, logs, injected secrets)."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "ARN of the task role (the daemon's own AWS calls)."
  value       = aws_iam_role.task.arn
}

output "operator_policy_arn" {
  description = "ARN of the managed policy for `triage dlq` and `triage send` (null when not created)."
  value       = try(aws_iam_policy.operator[0].arn, null)
}

output "log_group_name" {
  description = "CloudWatch log group of the daemon's JSON logs."
  value       = aws_cloudwatch_log_group.this.name
}

output "task_definition_arn" {
  description = "ARN (with revision) of the registered task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "container_definitions" {
  description = "The rendered containerDefinitions JSON (for review, and for `aws ecs run-task` overrides)."
  value       = aws_ecs_task_definition.this.container_definitions
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}
