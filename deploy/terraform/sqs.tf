locals {
  # The alerts queue's ARN, known before it exists, so the DLQ can name it in its redrive
  # allow policy while the alerts queue names the DLQ: no third resource and no third wait
  # for SQS attributes to settle (~25 s each in the provider) on the apply's critical path.
  main_queue_arn = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${var.name}-alerts"
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-alerts-dlq"
  message_retention_seconds = var.dlq_message_retention_s
  sqs_managed_sse_enabled   = true
  # Only the alerts queue may dead-letter into the DLQ (and `triage dlq redrive` moves back to it).
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.main_queue_arn]
  })
  tags = var.tags
}

resource "aws_sqs_queue" "main" {
  name = "${var.name}-alerts"
  # The daemon sets each message's visibility itself (TRIAGE_VISIBILITY_TIMEOUT_S on receive,
  # extended by its heartbeat); the queue's default is the same value for any other consumer.
  visibility_timeout_seconds = var.visibility_timeout_s
  message_retention_seconds  = var.message_retention_s
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.main_queue_arn
      error_message = "The alerts queue's ARN is not the one the DLQ's redrive allow policy names."
    }
    precondition {
      condition     = var.dlq_message_retention_s > var.message_retention_s
      error_message = "dlq_message_retention_s must exceed message_retention_s: a dead letter keeps its original enqueue time."
    }
  }
}

locals {
  # Who may send alerts to the queue besides triage's own roles: SNS topics and EventBridge rules.
  queue_policy = length(var.sns_topic_arns) + length(var.eventbridge_rule_arns) > 0
}

data "aws_iam_policy_document" "queue" {
  count = local.queue_policy ? 1 : 0

  dynamic "statement" {
    for_each = length(var.sns_topic_arns) > 0 ? [var.sns_topic_arns] : []
    content {
      sid       = "SnsTopicsSendAlerts"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.main.arn]

      principals {
        type        = "Service"
        identifiers = ["sns.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.eventbridge_rule_arns) > 0 ? [var.eventbridge_rule_arns] : []
    content {
      sid       = "EventBridgeRulesSendAlerts"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.main.arn]

      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value
      }
    }
  }
}

resource "aws_sqs_queue_policy" "main" {
  count     = local.queue_policy ? 1 : 0
  queue_url = aws_sqs_queue.main.id
  policy    = data.aws_iam_policy_document.queue[0].json
}
