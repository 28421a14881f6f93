# `triage ingest` (optional, ingest_enabled): the webhook gateway as its own Fargate service
# behind an HTTPS Application Load Balancer. Same image as the worker, command ["ingest"]. Its
# task role may only send to the alerts queue (and read the queue's attributes for /readyz and
# the message size limit) and read its tokens secret; it reaches nothing else.
#
#   senders ──HTTPS 443──► ALB (ingest_subnet_ids, ingest_allowed_cidrs)
#                            └─HTTP 8081──► gateway tasks (subnet_ids) ──► SQS

locals {
  ingest_count          = var.ingest_enabled ? 1 : 0
  ingest_container_name = "triage-ingest"
  #: TRIAGE_INGEST_PORT: the ALB's target port (the image's non-root user needs >= 1024).
  ingest_port              = 8081
  ingest_tokens_secret_arn = !var.ingest_enabled ? null : (var.ingest_tokens_secret_arn != null ? var.ingest_tokens_secret_arn : aws_secretsmanager_secret.ingest_tokens[0].arn)
  # ALB and target group names are limited to 32 characters and may not end with a hyphen (a
  # 31-character name would leave "<name>-" after the cut).
  ingest_lb_name = replace(substr("${var.name}-ingest", 0, 32), "/-+$/", "")

  ingest_environment = {
    ALERT_TRIAGE_QUEUE_URL         = aws_sqs_queue.main.url
    AWS_REGION                     = local.region
    TRIAGE_INGEST_HOST             = "0.0.0.0"
    TRIAGE_INGEST_PORT             = tostring(local.ingest_port)
    TRIAGE_INGEST_TOKENS_SECRET_ID = local.ingest_tokens_secret_arn
    TRIAGE_INGEST_RATE_PER_S       = tostring(var.ingest_rate_per_s)
    # The ALB appends the sender's address to X-Forwarded-For: the one proxy to trust.
    TRIAGE_INGEST_TRUSTED_PROXY_HOPS = "1"
    TRIAGE_HTTP_PORT                 = tostring(var.container_port)
    TRIAGE_LOG_FORMAT                = "json"
    TRIAGE_LOG_LEVEL                 = var.log_level
    TRIAGE_METRICS                   = var.metrics_mode == "off" ? "off" : "emf"
    CLOUDWATCH_NAMESPACE             = local.cloudwatch_namespace
    TRIAGE_SHUTDOWN_GRACE_S          = tostring(var.ingest_shutdown_grace_s)
  }

  ingest_container_definition = {
    name      = local.ingest_container_name
    image     = var.container_image
    essential = true
    # The image's ENTRYPOINT ["python", "-m", "triage"] with the gateway instead of the daemon.
    command                = ["ingest"]
    user                   = local.container_user
    readonlyRootFilesystem = var.readonly_root_filesystem
    stopTimeout            = var.stop_timeout_s
    linuxParameters        = { initProcessEnabled = true }
    portMappings = [
      { name = "ingest", containerPort = local.ingest_port, protocol = "tcp" },
      { name = "http", containerPort = var.container_port, protocol = "tcp" },
    ]
    environment = [for k in sort(keys(local.ingest_environment)) : { name = k, value = local.ingest_environment[k] }]
    mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    # The gateway serves the daemon's /healthz on TRIAGE_HTTP_PORT too: the same check works.
    healthCheck = {
      command     = ["CMD", "python", "-m", "triage", "health"]
      interval    = 30
      timeout     = 10
      retries     = 3
      startPeriod = 20
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.this.name
        "awslogs-region"        = local.region
        "awslogs-stream-prefix" = local.ingest_container_name
        "mode"                  = "non-blocking"
        "max-buffer-size"       = "25m"
      }
    }
  }
}

# --- Tokens ---------------------------------------------------------------------------------------

# The gateway's tokens, JSON {"grafana": "...", "alertmanager": "...", "generic": "...",
# "threshold": "...", "sentry": "<client secret>"}. Terraform never holds them: set the value once,
# out of band; rotate with put-secret-value (the gateway re-reads it, no restart):
#   aws secretsmanager put-secret-value --secret-id <ingest_tokens_secret_arn> --secret-string file://tokens.json
resource "aws_secretsmanager_secret" "ingest_tokens" {
  count                   = var.ingest_enabled && var.ingest_tokens_secret_arn == null ? 1 : 0
  name                    = "${var.name}/ingest-tokens"
  description             = "Per-source tokens of triage ingest (JSON source -> token; sentry: the integration's client secret)."
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# --- Task role: send to the queue, read the tokens --------------------------------------------

resource "aws_iam_role" "ingest_task" {
  count              = local.ingest_count
  name               = "${var.name}-ingest-task"
  description        = "triage ingest: send webhooks to the alerts queue, read its tokens."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "ingest_task" {
  count = local.ingest_count

  statement {
    sid = "SendToAlertsQueue"
    # ingest/outbox.py: send_message_batch, send_message; ingest/probe.py: get_queue_attributes
    # (readiness and MaximumMessageSize). Batch calls authorize as the single-message action.
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.main.arn]
  }

  statement {
    sid = "ReadIngestTokens"
    # ingest/auth.py: get_secret_value on TRIAGE_INGEST_TOKENS_SECRET_ID.
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.ingest_tokens_secret_arn]
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) == 0 ? [] : [1]
    content {
      sid       = "DecryptIngestTokens"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "ingest_task" {
  count  = local.ingest_count
  name   = "run-triage-ingest"
  role   = aws_iam_role.ingest_task[0].id
  policy = data.aws_iam_policy_document.ingest_task[0].json
}

# --- Network: the ALB takes HTTPS from the allowed ranges; the tasks only from the ALB ---------

data "aws_subnet" "ingest" {
  count = local.ingest_count
  id    = var.ingest_subnet_ids[0]
}

data "aws_vpc" "ingest" {
  count = local.ingest_count
  id    = data.aws_subnet.ingest[0].vpc_id
}

# The subnets the gateway's tasks run in: the load balancer may reach the gateway's port there,
# wherever they are in the VPC (a secondary CIDR block too, which the VPC's cidr_block omits).
# (count, not for_each: a root creating the subnets in the same apply knows only how many.)
data "aws_subnet" "ingest_tasks" {
  count = var.ingest_enabled ? length(var.subnet_ids) : 0
  id    = var.subnet_ids[count.index]
}

resource "aws_security_group" "ingest_alb" {
  count       = local.ingest_count
  name        = "${var.name}-ingest-alb"
  description = "triage ingest ALB: HTTPS in from the allowed ranges, the gateway port out to the VPC."
  vpc_id      = data.aws_vpc.ingest[0].id

  ingress {
    description = "Webhooks over HTTPS"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = var.ingest_allowed_cidrs
  }

  egress {
    description = "To the gateway tasks in their subnets"
    protocol    = "tcp"
    from_port   = local.ingest_port
    to_port     = local.ingest_port
    cidr_blocks = sort(distinct(data.aws_subnet.ingest_tasks[*].cidr_block))
  }

  tags = var.tags
}

resource "aws_security_group" "ingest_tasks" {
  count       = local.ingest_count
  name        = "${var.name}-ingest-tasks"
  description = "triage ingest tasks: the gateway port from the ALB only, HTTPS out to AWS APIs."
  vpc_id      = data.aws_vpc.ingest[0].id

  ingress {
    description     = "Webhooks from the ALB"
    protocol        = "tcp"
    from_port       = local.ingest_port
    to_port         = local.ingest_port
    security_groups = [aws_security_group.ingest_alb[0].id]
  }

  egress {
    description = "SQS, Secrets Manager, CloudWatch Logs, ECR"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = var.tags
}

# --- Load balancer ------------------------------------------------------------------------------

resource "aws_lb" "ingest" {
  count              = local.ingest_count
  name               = local.ingest_lb_name
  load_balancer_type = "application"
  internal           = var.ingest_internal
  subnets            = var.ingest_subnet_ids
  security_groups    = [aws_security_group.ingest_alb[0].id]
  # Requests with malformed headers never reach the gateway.
  drop_invalid_header_fields = true
  tags                       = var.tags

  lifecycle {
    precondition {
      condition     = var.ingest_certificate_arn != null
      error_message = "ingest_enabled needs ingest_certificate_arn: the gateway is only served over HTTPS."
    }
    precondition {
      condition     = length(var.ingest_subnet_ids) >= 2
      error_message = "ingest_enabled needs ingest_subnet_ids in at least two Availability Zones for the ALB."
    }
  }
}

resource "aws_lb_target_group" "ingest" {
  count       = local.ingest_count
  name        = local.ingest_lb_name
  port        = local.ingest_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = data.aws_vpc.ingest[0].id
  # A stopping task keeps its in-flight requests this long; then ECS sends SIGTERM and the
  # gateway drains what it accepted.
  deregistration_delay = var.ingest_deregistration_delay_s

  # Liveness, not readiness: an SQS outage must not make ECS replace every task (the gateway
  # already answers 503 with Retry-After while SQS is away).
  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener" "ingest_https" {
  count             = local.ingest_count
  load_balancer_arn = aws_lb.ingest[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ingest_ssl_policy
  certificate_arn   = var.ingest_certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.ingest[0].arn
  }

  tags = var.tags
}

# --- Task definition and service ------------------------------------------------------------

resource "aws_ecs_task_definition" "ingest" {
  count                    = local.ingest_count
  family                   = "${var.name}-ingest"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.ingest_task[0].arn
  container_definitions    = jsonencode([local.ingest_container_definition])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.stop_timeout_s >= var.ingest_shutdown_grace_s + 5
      error_message = "stop_timeout_s must be at least ingest_shutdown_grace_s + 5: the gateway needs the grace to finish accepted requests before SIGKILL."
    }
    precondition {
      condition     = var.container_port != local.ingest_port
      error_message = "container_port must not be ${local.ingest_port} with ingest_enabled: the gateway listens for webhooks there, and refuses to start with TRIAGE_HTTP_PORT on the same port."
    }
  }
}

resource "aws_ecs_service" "ingest" {
  count            = local.ingest_count
  name             = "${var.name}-ingest"
  cluster          = var.cluster_name
  task_definition  = aws_ecs_task_definition.ingest[0].arn
  launch_type      = "FARGATE"
  platform_version = var.platform_version
  desired_count    = var.ingest_desired_count
  # New tasks pass the ALB's health check before old ones are drained.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 30
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = var.wait_for_steady_state

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.ingest_tasks[0].id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.ingest[0].arn
    container_name   = local.ingest_container_name
    container_port   = local.ingest_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = var.tags

  # The target group is usable by a service only once a listener forwards to it.
  depends_on = [aws_lb_listener.ingest_https]
}
