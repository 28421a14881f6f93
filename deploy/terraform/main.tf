# triage on ECS Fargate: the queue and its DLQ, the incidents table, the backend token secret,
# two least-privilege roles, the log group, the service and queue-depth scaling.
# Resources live in one file per concern; this one holds what they share.

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  #: The container's name in the task definition; also the awslogs stream prefix.
  container_name = "triage"
  #: The image's non-root user (Dockerfile: useradd --uid 10001, USER 10001:10001).
  container_user = "10001:10001"

  # triage's metrics: the module's default instance keeps the namespace it always had, any
  # other its own, since the daemon's series carry no dimension naming the instance (Service is
  # "triage" in every one): a shared namespace mixes staging's failures into production's alarms.
  cloudwatch_namespace = coalesce(var.cloudwatch_namespace, var.name == "triage" ? "AlertTriage" : "AlertTriage/${var.name}")

  backend_token_secret_arn = var.backend_token_secret_arn != null ? var.backend_token_secret_arn : aws_secretsmanager_secret.backend_token[0].arn

  # An image in a private ECR repository: the execution role may pull that repository only.
  # Any other registry (public ECR, Docker Hub) needs no ECR permission.
  ecr_image          = try(regex("^(?P<account>[0-9]{12})\\.dkr\\.ecr(?:-fips)?\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repository>[^:@]+)", var.container_image), null)
  ecr_repository_arn = local.ecr_image == null ? null : "arn:${local.partition}:ecr:${local.ecr_image.region}:${local.ecr_image.account}:repository/${local.ecr_image.repository}"

  # Secrets ECS injects into the environment (read by the execution role at task start): the
  # three the module names, then extra_secrets in name order.
  injected_secrets = concat([
    for s in [
      { name = "OPENAI_API_KEY", valueFrom = var.openai_api_key_secret_arn },
      { name = "GITHUB_TOKEN", valueFrom = var.github_token_secret_arn },
      { name = "SLACK_WEBHOOK_URL", valueFrom = var.slack_webhook_secret_arn },
    ] : s if s.valueFrom != null
  ], [for name in sort(keys(var.extra_secrets)) : { name = name, valueFrom = var.extra_secrets[name] }])
  # The secrets those are read from, as IAM names them: a valueFrom of one key of a JSON secret
  # (ARN:json-key:version-stage:version-id) is the secret's ARN with ECS's suffix after it.
  injected_secret_arns = distinct([for s in local.injected_secrets : join(":", slice(split(":", s.valueFrom), 0, 7))])

  # The daemon's settings (README, "Configuration"). Unset optional ones are left out, so the
  # daemon's own defaults apply.
  environment = merge(var.extra_environment, {
    ALERT_TRIAGE_QUEUE_URL       = aws_sqs_queue.main.url
    AWS_REGION                   = local.region
    TRIAGE_STORE_URL             = "dynamodb://${aws_dynamodb_table.incidents.name}"
    BACKEND_BASE_URL             = var.backend_base_url
    BACKEND_SERVICE_ROUTE        = var.backend_service_route
    BACKEND_TOKEN_SECRET_ID      = local.backend_token_secret_arn
    TRIAGE_BACKEND_UPDATE_ROUTE  = var.backend_update_route
    TRIAGE_BACKEND_RESOLVE_ROUTE = var.backend_resolve_route
    OPENAI_MODEL                 = var.openai_model
    OPENAI_BASE_URL              = var.openai_base_url
    TRIAGE_LLM_PROVIDER          = var.llm_provider
    TRIAGE_BEDROCK_MODEL_ID      = var.llm_provider == "bedrock" ? var.bedrock_model_id : null
    TRIAGE_CONCURRENCY           = tostring(var.concurrency)
    TRIAGE_LOG_FORMAT            = "json"
    TRIAGE_LOG_LEVEL             = var.log_level
    TRIAGE_METRICS               = var.metrics_mode
    CLOUDWATCH_NAMESPACE         = local.cloudwatch_namespace
    TRIAGE_HTTP_PORT             = tostring(var.container_port)
    TRIAGE_SHUTDOWN_GRACE_S      = tostring(var.shutdown_grace_s)
    TRIAGE_VISIBILITY_TIMEOUT_S  = tostring(var.visibility_timeout_s)
  })

  container_definition = {
    name      = local.container_name
    image     = var.container_image
    essential = true
    # No entryPoint/command: the image's ENTRYPOINT ["python", "-m", "triage"] CMD ["run"].
    user                   = local.container_user
    readonlyRootFilesystem = var.readonly_root_filesystem
    # SIGTERM → the daemon drains for TRIAGE_SHUTDOWN_GRACE_S → SIGKILL after stopTimeout.
    stopTimeout = var.stop_timeout_s
    # tini as PID 1 forwards SIGTERM to python and reaps the health check's children.
    linuxParameters = { initProcessEnabled = true }
    portMappings    = [{ name = "http", containerPort = var.container_port, protocol = "tcp" }]
    environment     = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] } if local.environment[k] != null]
    secrets         = local.injected_secrets
    # The only writable path when the root filesystem is read-only (for any library's temp files).
    mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
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
        "awslogs-stream-prefix" = local.container_name
        # A slow CloudWatch Logs must never block the event loop's writes to stdout.
        "mode"            = "non-blocking"
        "max-buffer-size" = "25m"
      }
    }
  }

  # Bedrock's Converse authorises as bedrock:InvokeModel on what it runs: a foundation model in
  # this region, or an inference profile and the model behind it in the regions it routes to.
  bedrock_profile = try(regex("^(us|us-gov|eu|apac|ca|jp|au|global)\\.(.+)$", var.bedrock_model_id), null)
  bedrock_model_arns = var.llm_provider != "bedrock" ? [] : (
    local.bedrock_profile == null
    ? ["arn:${local.partition}:bedrock:${local.region}::foundation-model/${var.bedrock_model_id}"]
    : [
      "arn:${local.partition}:bedrock:${local.region}:${local.account_id}:inference-profile/${var.bedrock_model_id}",
      "arn:${local.partition}:bedrock:*::foundation-model/${local.bedrock_profile[1]}",
    ]
  )

  # Fargate's CPU → memory (MiB) pairings.
  fargate_memory = {
    "256"   = [512, 1024, 2048]
    "512"   = range(1024, 4097, 1024)
    "1024"  = range(2048, 8193, 1024)
    "2048"  = range(4096, 16385, 1024)
    "4096"  = range(8192, 30721, 1024)
    "8192"  = range(16384, 61441, 4096)
    "16384" = range(32768, 122881, 8192)
  }
}
