locals {
  #: Names both extra_environment and extra_secrets set, compared as the daemon reads them.
  set_twice = sort(setintersection(
    [for k in keys(var.extra_environment) : upper(k)], [for k in keys(var.extra_secrets) : upper(k)]
  ))
  #: TRIAGE_SHUTDOWN_CANCEL_S as the daemon reads it (extra_environment, a name in any case; an
  #: empty value is unset), else its default of 3 s: after the grace, the time to cancel and
  #: release what is left, which the stop timeout must hold too.
  shutdown_cancel_s = try(tonumber(element(concat(
    [for k, v in var.extra_environment : v if upper(k) == "TRIAGE_SHUTDOWN_CANCEL_S"], ["3"]
  ), 0)), 3)
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.container_definition])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # Task-local scratch space mounted at /tmp (the root filesystem is read-only).
  volume {
    name = "tmp"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = contains(local.fargate_memory[tostring(var.cpu)], var.memory)
      error_message = "memory ${var.memory} is not a Fargate pairing for cpu ${var.cpu}: allowed ${join(", ", [for m in local.fargate_memory[tostring(var.cpu)] : tostring(m)])}."
    }
    precondition {
      condition     = var.llm_provider != "openai" || var.openai_api_key_secret_arn != null
      error_message = "llm_provider = \"openai\" needs openai_api_key_secret_arn: the daemon refuses to start without OPENAI_API_KEY."
    }
    precondition {
      condition     = length(local.set_twice) == 0
      error_message = "extra_environment and extra_secrets both set ${join(", ", local.set_twice)}: a variable comes from one or the other (names in any case: the daemon reads them so)."
    }
    precondition {
      condition     = var.stop_timeout_s >= var.shutdown_grace_s + 7
      error_message = "stop_timeout_s must be at least shutdown_grace_s + 7: after the grace the daemon takes up to 3 s to release what is left, 1 s for the last deletes and 1 s each for the last metrics and spans before SIGKILL."
    }
    precondition {
      # The rule above with TRIAGE_SHUTDOWN_CANCEL_S longer than its default 3 s.
      condition     = local.shutdown_cancel_s <= 3 || var.stop_timeout_s >= var.shutdown_grace_s + local.shutdown_cancel_s + 4
      error_message = "stop_timeout_s must be at least shutdown_grace_s + TRIAGE_SHUTDOWN_CANCEL_S (${local.shutdown_cancel_s} s, from extra_environment) + 4: after the grace the daemon takes that long to release what is left, then 1 s for the last deletes and 1 s each for the last metrics and spans before SIGKILL."
    }
  }
}

resource "aws_ecs_service" "this" {
  name             = var.name
  cluster          = var.cluster_name
  task_definition  = aws_ecs_task_definition.this.arn
  launch_type      = "FARGATE"
  platform_version = var.platform_version
  # Scaling owns the count after creation (see lifecycle.ignore_changes).
  desired_count = var.min_capacity
  # Start new tasks before stopping old ones; the old ones drain on SIGTERM.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = var.wait_for_steady_state

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }

  # A deployment whose tasks keep failing (crash, failing health check) rolls back by itself.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = var.tags

  lifecycle {
    ignore_changes = [desired_count]
  }
}
