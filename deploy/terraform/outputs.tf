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

output "ingest_url" {
  description = "Base URL of triage ingest (HTTPS on the ALB's DNS name; use your own name covered by the certificate): POST <url>/v1/alerts/{source}. Null without ingest_enabled."
  value       = var.ingest_enabled ? "https://${aws_lb.ingest[0].dns_name}" : null
}

output "ingest_alb_dns_name" {
  description = "DNS name of the ingest ALB (alias or CNAME your webhook host name to it)."
  value       = try(aws_lb.ingest[0].dns_name, null)
}

output "ingest_alb_zone_id" {
  description = "Route 53 zone id of the ingest ALB, for an alias record."
  value       = try(aws_lb.ingest[0].zone_id, null)
}

output "ingest_tokens_secret_arn" {
  description = "ARN of the gateway's tokens secret; set its JSON value with put-secret-value."
  value       = local.ingest_tokens_secret_arn
}

output "ingest_task_role_arn" {
  description = "ARN of the gateway's task role (SendMessage to the queue, read the tokens)."
  value       = try(aws_iam_role.ingest_task[0].arn, null)
}

output "ingest_task_definition_arn" {
  description = "ARN (with revision) of the gateway's task definition."
  value       = try(aws_ecs_task_definition.ingest[0].arn, null)
}

output "ingest_service_name" {
  description = "Name of the gateway's ECS service."
  value       = try(aws_ecs_service.ingest[0].name, null)
}

output "alarm_arns" {
  description = "ARNs of the module's alarms, by name (dlq_not_empty, oldest_message, summarization_failures, breaker_open, ingest_5xx)."
  value = {
    for name, alarm in {
      dlq_not_empty          = aws_cloudwatch_metric_alarm.dlq_not_empty
      oldest_message         = aws_cloudwatch_metric_alarm.oldest_message
      summarization_failures = aws_cloudwatch_metric_alarm.summarization_failures
      breaker_open           = aws_cloudwatch_metric_alarm.breaker_open
      ingest_5xx             = aws_cloudwatch_metric_alarm.ingest_5xx
    } : name => alarm[0].arn if length(alarm) > 0
  }
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the module created for its alarms (null unless create_alarm_topic)."
  value       = try(aws_sns_topic.alarms[0].arn, null)
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null unless dashboard_enabled)."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}
