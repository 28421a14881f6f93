# Queue-depth step scaling: ApproximateNumberOfMessagesVisible of the alerts queue (what is
# waiting, not what is being worked on) adds tasks while a backlog builds and removes one at a
# time once the queue has stayed (nearly) empty. A task taken away drains on SIGTERM first.

resource "aws_appautoscaling_target" "service" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.this.name}"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.max_capacity >= var.min_capacity
      error_message = "max_capacity must be >= min_capacity."
    }
    precondition {
      condition     = var.scale_in_backlog < var.scale_out_backlog
      error_message = "scale_in_backlog must be below scale_out_backlog, or the two alarms fight."
    }
  }
}

resource "aws_appautoscaling_policy" "scale_out" {
  name               = "${var.name}-queue-backlog-out"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension
  resource_id        = aws_appautoscaling_target.service.resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = var.scale_out_cooldown_s
    metric_aggregation_type = "Maximum"

    # Bounds are relative to the alarm threshold (scale_out_backlog).
    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = 4 * var.scale_out_backlog
      scaling_adjustment          = 1
    }

    step_adjustment {
      metric_interval_lower_bound = 4 * var.scale_out_backlog
      scaling_adjustment          = 2
    }
  }
}

resource "aws_appautoscaling_policy" "scale_in" {
  name               = "${var.name}-queue-backlog-in"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension
  resource_id        = aws_appautoscaling_target.service.resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = var.scale_in_cooldown_s
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = -1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "backlog_high" {
  alarm_name          = "${var.name}-queue-backlog-high"
  alarm_description   = "Alerts are waiting in ${aws_sqs_queue.main.name}: add triage tasks."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.main.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.scale_out_backlog
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.scale_out.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "backlog_low" {
  alarm_name          = "${var.name}-queue-backlog-low"
  alarm_description   = "${aws_sqs_queue.main.name} has stayed drained: remove a triage task."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.main.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = var.scale_in_evaluation_minutes
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = var.scale_in_backlog
  # SQS stops publishing for a queue idle for hours: no data means nothing is waiting.
  treat_missing_data = "breaching"
  alarm_actions      = [aws_appautoscaling_policy.scale_in.arn]
  tags               = var.tags
}

# --- Waking a service scaled to zero (min_capacity = 0) ---------------------------------------
# With no task running, the backlog alarm above adds one only once scale_out_backlog alerts wait
# (100 by default): a few alerts would wait for good. This alarm adds a task as soon as one alert
# waits while none is in flight (NotVisible 0: no task holds one, which is what "no task runs"
# looks like from the queue). A running task takes a waiting alert within its long poll, so the
# alarm stays quiet while tasks run; while intake is paused (a sink's breaker open) it may add
# tasks up to max_capacity, as the backlog alarm would once the backlog builds.

locals {
  scale_from_zero = var.min_capacity == 0 ? 1 : 0
}

resource "aws_appautoscaling_policy" "wake" {
  count              = local.scale_from_zero
  name               = "${var.name}-queue-waiting-wake"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension
  resource_id        = aws_appautoscaling_target.service.resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = var.scale_out_cooldown_s
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_lower_bound = 0
      scaling_adjustment          = 1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "waiting_unread" {
  count               = local.scale_from_zero
  alarm_name          = "${var.name}-queue-waiting-unread"
  alarm_description   = "Alerts wait in ${aws_sqs_queue.main.name} and none is in flight: no triage task runs (scaled to zero); add one."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  # SQS stops publishing for a queue idle for hours, and starts again with the next message.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_appautoscaling_policy.wake[0].arn]
  tags               = var.tags

  metric_query {
    id = "waiting"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.main.name }
      stat        = "Maximum"
      period      = 60
    }
  }

  metric_query {
    id = "inflight"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesNotVisible"
      dimensions  = { QueueName = aws_sqs_queue.main.name }
      stat        = "Maximum"
      period      = 60
    }
  }

  metric_query {
    id          = "unread"
    expression  = "IF(waiting >= 1 AND inflight == 0, 1, 0)"
    label       = "Alerts waiting with none in flight"
    return_data = true
  }
}
