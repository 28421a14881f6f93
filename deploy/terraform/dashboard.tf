# One CloudWatch dashboard, <name>: the queue as SQS sees it, then triage's own metrics (README,
# "Operations"): tickets, messages, latency, the LLM, the sinks, breakers and budgets, the
# gateway, and the alarms' states. triage's series are read under Service alone.

locals {
  ns     = local.cloudwatch_namespace
  daemon = ["Service", "triage"]
  ingest = ["Service", "triage-ingest"]

  # [namespace, metric, dimension name, value, ..., {options}] per line of a graph.
  dashboard_graphs = concat([
    {
      title = "Alerts queue (SQS)"
      metrics = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.main.name, { stat = "Maximum", label = "waiting" }],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.main.name, { stat = "Maximum", label = "oldest (s)", yAxis = "right" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dlq.name, { stat = "Maximum", label = "dead letters" }],
      ]
    },
    {
      title = "Tickets"
      metrics = [for m in ["TicketsCreated", "TicketsUpdated", "TicketsClosed", "TicketsReopened", "DuplicatesSuppressed"] :
      concat([local.ns, m], local.daemon, [{ stat = "Sum" }])]
    },
    {
      title = "Messages"
      metrics = [
        concat([local.ns, "MessagesFailed"], local.daemon, [{ stat = "Sum" }]),
        concat([local.ns, "MessagesHeld"], local.daemon, [{ stat = "Sum" }]),
        concat([local.ns, "MessagesInFlight"], local.daemon, [{ stat = "Maximum" }]),
        concat([local.ns, "OldestMessageAge"], local.daemon, [{ stat = "Maximum", yAxis = "right", label = "oldest held (s)" }]),
      ]
    },
    {
      title = "Latency (ms)"
      metrics = [
        concat([local.ns, "ProcessingLatency"], local.daemon, [{ stat = "p50" }]),
        concat([local.ns, "ProcessingLatency"], local.daemon, [{ stat = "p99" }]),
        concat([local.ns, "QueueLag"], local.daemon, [{ stat = "p99" }]),
      ]
    },
    {
      title = "LLM"
      metrics = [
        concat([local.ns, "LLMCalls"], local.daemon, [{ stat = "Sum" }]),
        concat([local.ns, "SummarizationFailures"], local.daemon, [{ stat = "Sum" }]),
        concat([local.ns, "LLMGroundingRejects"], local.daemon, [{ stat = "Sum" }]),
        concat([local.ns, "LLMLatency"], local.daemon, [{ stat = "p50", yAxis = "right" }]),
        concat([local.ns, "LLMLatency"], local.daemon, [{ stat = "p99", yAxis = "right" }]),
      ]
    },
    {
      title   = "LLM tokens"
      metrics = [for m in ["LLMTokensIn", "LLMTokensOut"] : concat([local.ns, m], local.daemon, [{ stat = "Sum" }])]
    },
    {
      title = "Sinks"
      metrics = [
        concat([local.ns, "SinkCalls"], local.daemon, [{ stat = "Sum" }]),
        concat([local.ns, "SinkLatency"], local.daemon, [{ stat = "p99", yAxis = "right" }]),
      ]
    },
    {
      title = "Breakers and budgets"
      metrics = [
        concat([local.ns, "BreakerOpenDuration"], local.daemon, [{ stat = "Maximum", label = "longest open (s)" }]),
        concat([local.ns, "BreakerState"], local.daemon, [{ stat = "Maximum", label = "worst state (2 = open)", yAxis = "right" }]),
        concat([local.ns, "BudgetTokens"], local.daemon, [{ stat = "Minimum", label = "fewest budget tokens", yAxis = "right" }]),
      ]
    },
    {
      title = "Queue depth as triage polls it"
      metrics = [for m in ["QueueMessagesVisible", "QueueMessagesInFlight", "DlqMessagesVisible"] :
      concat([local.ns, m], local.daemon, [{ stat = "Maximum" }])]
    },
    ], var.ingest_enabled ? [
    {
      title = "Ingest gateway"
      metrics = [
        concat([local.ns, "IngestRequests"], local.ingest, [{ stat = "Sum" }]),
        concat([local.ns, "IngestLatency"], local.ingest, [{ stat = "p99", yAxis = "right" }]),
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", aws_lb.ingest[0].arn_suffix, { stat = "Sum" }],
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", aws_lb.ingest[0].arn_suffix, { stat = "Sum" }],
      ]
    },
  ] : [])

  alarm_arns = compact([
    try(aws_cloudwatch_metric_alarm.dlq_not_empty[0].arn, null),
    try(aws_cloudwatch_metric_alarm.oldest_message[0].arn, null),
    try(aws_cloudwatch_metric_alarm.summarization_failures[0].arn, null),
    try(aws_cloudwatch_metric_alarm.breaker_open[0].arn, null),
    try(aws_cloudwatch_metric_alarm.ingest_5xx[0].arn, null),
  ])

  dashboard_widgets = concat(
    length(local.alarm_arns) == 0 ? [] : [{
      type       = "alarm"
      x          = 0
      y          = 0
      width      = 24
      height     = 3
      properties = { title = "Alarms", alarms = local.alarm_arns }
    }],
    [for i, graph in local.dashboard_graphs : {
      type   = "metric"
      x      = (i % 2) * 12
      y      = 3 + floor(i / 2) * 6
      width  = 12
      height = 6
      properties = {
        title   = graph.title
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 60
        metrics = graph.metrics
      }
    }],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count          = var.dashboard_enabled ? 1 : 0
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
