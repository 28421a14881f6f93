# Alarms an SRE pages on, each with the same actions (alarm_sns_topic_arn, and the topic the
# module creates when create_alarm_topic is set):
# - the DLQ is not empty: an alert was given up on;
# - the oldest message in the queue is older than alarm_oldest_message_age_s: triage is behind;
# - summarisation failures (the deterministic summariser writing instead of the model) above
#   alarm_summarization_failure_percent of new tickets;
# - a circuit breaker (a sink's, the LLM's) open for alarm_breaker_open_s or longer;
# - the ingest gateway answering 5xx to more than alarm_ingest_5xx_percent of webhooks.
# triage's own metrics (EMF or PutMetricData) are read under Service alone: every series is also
# published so, whatever its dimensions (README, "Operations").

locals {
  alarms_count = var.alarms_enabled ? 1 : 0
  alarm_actions = compact([
    var.alarm_sns_topic_arn,
    try(aws_sns_topic.alarms[0].arn, null),
  ])
  # The daemon's EMF and PutMetricData dimension for its own series.
  daemon_dimensions = { Service = "triage" }
}

resource "aws_sns_topic" "alarms" {
  count = var.create_alarm_topic ? 1 : 0
  name  = "${var.name}-alarms"
  # Not SNS's AWS managed key (alias/aws/sns): its key policy, which nobody can edit, does not
  # let CloudWatch use it, so every alarm action would fail. Encrypted only with a customer
  # managed key whose policy lets cloudwatch.amazonaws.com use it. Subscribe e-mail, chat or a
  # pager to this topic.
  kms_master_key_id = var.alarm_topic_kms_key_id
  tags              = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  count               = local.alarms_count
  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "Dead letters wait in ${aws_sqs_queue.dlq.name}: alerts triage gave up on. Read them with `triage dlq peek`, fix the cause, then `triage dlq redrive`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # SQS stops publishing for a queue idle for hours: no data means nothing is there.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
  tags               = var.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message" {
  count               = local.alarms_count
  alarm_name          = "${var.name}-oldest-message-age"
  alarm_description   = "The oldest alert in ${aws_sqs_queue.main.name} has waited over ${var.alarm_oldest_message_age_s} s: triage is down, stuck or held back by a sink (see the triage dashboard)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.main.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_oldest_message_age_s
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "summarization_failures" {
  count               = local.alarms_count
  alarm_name          = "${var.name}-summarization-failures"
  alarm_description   = "Over ${var.alarm_summarization_failure_percent}% of new tickets were written by the deterministic summariser because the LLM failed (LLMFallbacks{reason} says why)."
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_summarization_failure_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "failure_percent"
    label       = "Summarisation failures (% of summaries)"
    expression  = "IF(FILL(failures, 0) + FILL(ok, 0) > 0, 100 * FILL(failures, 0) / (FILL(failures, 0) + FILL(ok, 0)), 0)"
    return_data = true
  }

  metric_query {
    id = "failures"
    metric {
      namespace   = local.cloudwatch_namespace
      metric_name = "SummarizationFailures"
      dimensions  = local.daemon_dimensions
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "ok"
    metric {
      namespace   = local.cloudwatch_namespace
      metric_name = "LLMCalls"
      dimensions  = merge(local.daemon_dimensions, { outcome = "ok" })
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "breaker_open" {
  count             = local.alarms_count
  alarm_name        = "${var.name}-breaker-open"
  alarm_description = "A circuit breaker (a sink's or the LLM's) has been open for ${var.alarm_breaker_open_s} s or more: its service is down, and with a sink's, triage takes no new alerts. BreakerOpenDuration{breaker} names it."
  namespace         = local.cloudwatch_namespace
  metric_name       = "BreakerOpenDuration"
  dimensions        = local.daemon_dimensions
  statistic         = "Maximum"
  # The daemon publishes the gauge every TRIAGE_METRICS_INTERVAL_S (60 s by default).
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alarm_breaker_open_s
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "ingest_5xx" {
  count               = var.alarms_enabled && var.ingest_enabled ? 1 : 0
  alarm_name          = "${var.name}-ingest-5xx"
  alarm_description   = "triage ingest (or its load balancer) answered 5xx to over ${var.alarm_ingest_5xx_percent}% of webhooks: senders are retrying, or dropping alerts."
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_ingest_5xx_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "error_percent"
    label       = "Ingest 5xx (% of requests)"
    expression  = "IF(FILL(requests, 0) > 0, 100 * (FILL(target_5xx, 0) + FILL(elb_5xx, 0)) / FILL(requests, 0), 0)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = {
      requests   = "RequestCount"
      target_5xx = "HTTPCode_Target_5XX_Count"
      elb_5xx    = "HTTPCode_ELB_5XX_Count"
    }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = metric_query.value
        dimensions  = { LoadBalancer = aws_lb.ingest[0].arn_suffix }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}
