# --- Naming and placement -------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (queue, DLQ, table, roles, log group, service, task family)."
  type        = string
  default     = "triage"

  validation {
    condition     = can(regex("^[a-zA-Z]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$", var.name))
    error_message = "name must start with a letter, end with a letter or digit and hold 1-32 letters, digits or hyphens (it prefixes SQS, IAM, ECS and load balancer names)."
  }
}

variable "tags" {
  description = "Tags added to every taggable resource the module creates."
  type        = map(string)
  default     = {}
}

variable "cluster_name" {
  description = "Name of the existing ECS cluster the service runs in (the module does not create a cluster)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be an ECS cluster name (letters, digits, hyphens, underscores), not an ARN."
  }
}

variable "subnet_ids" {
  description = "Subnets for the tasks' ENIs; private subnets with a NAT gateway or VPC endpoints for SQS, DynamoDB, Secrets Manager, CloudWatch Logs, ECR and S3 (and CloudWatch monitoring when metrics_mode is cloudwatch)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups for the tasks. The worker needs no inbound rule; it needs HTTPS egress to AWS APIs, the ticket backend and (later) the LLM."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids must hold at least one security group id (sg-...)."
  }
}

variable "assign_public_ip" {
  description = "Give each task a public IP. Keep false and use private subnets; true only for public subnets without NAT."
  type        = bool
  default     = false
}

# --- Container --------------------------------------------------------------------------------

variable "container_image" {
  description = "The triage image built from the repository's Dockerfile, as registry/repository:tag or registry/repository@sha256:digest. Its ENTRYPOINT is `python -m triage` and CMD `run`."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.container_image))
    error_message = "container_image must name a tag or a digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/triage:1.0.0."
  }
}

variable "cpu" {
  description = "Task CPU units (Fargate sizes: 256, 512, 1024, 2048, 4096, 8192, 16384)."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Task memory in MiB; must be a valid Fargate pairing with cpu (256 CPU: 512, 1024 or 2048)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880 && var.memory % 512 == 0
    error_message = "memory must be a multiple of 512 MiB between 512 and 122880."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64 (Graviton, cheaper; build the image for linux/arm64)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "container_port" {
  description = "TRIAGE_HTTP_PORT: /healthz, /readyz and /metrics. The container health check probes it on 127.0.0.1. Not 8081 with ingest_enabled (the gateway's webhook port)."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535
    error_message = "container_port must be 1024-65535 (the image runs as a non-root user)."
  }
}

variable "stop_timeout_s" {
  description = "ECS stopTimeout: seconds between SIGTERM and SIGKILL. Must exceed shutdown_grace_s so the drain finishes; Fargate allows at most 120."
  type        = number
  default     = 30

  validation {
    condition     = var.stop_timeout_s >= 2 && var.stop_timeout_s <= 120
    error_message = "stop_timeout_s must be 2-120 seconds (the Fargate maximum is 120)."
  }
}

variable "readonly_root_filesystem" {
  description = "Mount the container's root filesystem read-only. Safe with the DynamoDB store (the daemon writes no file; /tmp is a writable task volume)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log group that receives the daemon's JSON logs (and EMF metrics)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

# --- Daemon settings (environment) ------------------------------------------------------------

variable "backend_base_url" {
  description = "BACKEND_BASE_URL: the ticket backend, e.g. https://tickets.internal.example.com."
  type        = string

  validation {
    condition     = can(regex("^https?://[^\\s/]+", var.backend_base_url))
    error_message = "backend_base_url must be an http(s) URL."
  }
}

variable "backend_service_route" {
  description = "BACKEND_SERVICE_ROUTE: the route that creates a ticket."
  type        = string
  default     = "/api/service/tickets"

  validation {
    condition     = startswith(var.backend_service_route, "/")
    error_message = "backend_service_route must start with /."
  }
}

variable "backend_update_route" {
  description = "TRIAGE_BACKEND_UPDATE_ROUTE: route for updates and reopens, {ref} = ticket id. null: those effects are skipped."
  type        = string
  default     = null
}

variable "backend_resolve_route" {
  description = "TRIAGE_BACKEND_RESOLVE_ROUTE: route for resolves, {ref} = ticket id. null: resolves are skipped."
  type        = string
  default     = null
}

variable "backend_token_secret_arn" {
  description = "ARN of an existing Secrets Manager secret holding the backend bearer token (JSON {\"BACKEND_TOKEN\": ...} or a plain string). null: the module creates an empty secret you fill once with put-secret-value."
  type        = string
  default     = null

  validation {
    condition     = var.backend_token_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$", var.backend_token_secret_arn))
    error_message = "backend_token_secret_arn must be the secret's full ARN, ending in its six-character suffix (-AbCdEf), as describe-secret shows it: IAM matches the full ARN, so a partial one would be refused at the first read."
  }
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the secret the module creates (0 deletes at once on destroy)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or 7-30."
  }
}

variable "openai_api_key_secret_arn" {
  description = "ARN of a Secrets Manager secret whose plain-string value is injected as OPENAI_API_KEY (ECS secrets; one key of a JSON secret: its ARN, then :KEY::). null: not set. With it, new tickets are written by the LLM (the deterministic summariser stands behind it)."
  type        = string
  default     = null

  validation {
    condition     = var.openai_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}(:[^:]*:[^:]*:[^:]*)?$", var.openai_api_key_secret_arn))
    error_message = "openai_api_key_secret_arn must be the secret's full ARN, ending in its six-character suffix (-AbCdEf), as describe-secret shows it (one key of a JSON secret: that ARN, then :KEY::): IAM matches the full ARN, so a partial one would be refused at the first read."
  }
}

variable "github_token_secret_arn" {
  description = "ARN of a Secrets Manager secret whose plain-string value is injected as GITHUB_TOKEN (ECS secrets; one key of a JSON secret: its ARN, then :KEY::), for the GitHub sink. null: not set."
  type        = string
  default     = null

  validation {
    condition     = var.github_token_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}(:[^:]*:[^:]*:[^:]*)?$", var.github_token_secret_arn))
    error_message = "github_token_secret_arn must be the secret's full ARN, ending in its six-character suffix (-AbCdEf), as describe-secret shows it (one key of a JSON secret: that ARN, then :KEY::): IAM matches the full ARN, so a partial one would be refused at the first read."
  }
}

variable "slack_webhook_secret_arn" {
  description = "ARN of a Secrets Manager secret whose plain-string value (an incoming-webhook URL) is injected as SLACK_WEBHOOK_URL (ECS secrets; one key of a JSON secret: its ARN, then :KEY::), for the Slack sink. null: not set."
  type        = string
  default     = null

  validation {
    condition     = var.slack_webhook_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}(:[^:]*:[^:]*:[^:]*)?$", var.slack_webhook_secret_arn))
    error_message = "slack_webhook_secret_arn must be the secret's full ARN, ending in its six-character suffix (-AbCdEf), as describe-secret shows it (one key of a JSON secret: that ARN, then :KEY::): IAM matches the full ARN, so a partial one would be refused at the first read."
  }
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys that encrypt any of the secrets above; both roles get kms:Decrypt on them through Secrets Manager only. Empty when the secrets use the AWS-managed key."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.secrets_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "secrets_kms_key_arns must hold KMS key ARNs (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "openai_model" {
  description = "OPENAI_MODEL. null: the daemon's default."
  type        = string
  default     = null
}

variable "openai_base_url" {
  description = "OPENAI_BASE_URL: any OpenAI-compatible server. null: api.openai.com."
  type        = string
  default     = null
}

# --- The LLM provider: OpenAI or Bedrock (issue 16) ---------------------------------------------

variable "llm_provider" {
  description = "TRIAGE_LLM_PROVIDER: openai, bedrock or none. null: the daemon's default (openai when openai_api_key_secret_arn is set, else none). With bedrock the task role may invoke bedrock_model_id, and only it."
  type        = string
  default     = null

  validation {
    condition     = var.llm_provider == null || contains(["openai", "bedrock", "none"], coalesce(var.llm_provider, "none"))
    error_message = "llm_provider must be openai, bedrock or none (or null)."
  }
}

variable "bedrock_model_id" {
  description = "TRIAGE_BEDROCK_MODEL_ID, used with llm_provider = bedrock: a foundation model id (anthropic.claude-3-haiku-20240307-v1:0) or a cross-region inference profile id (us.…, eu.…, apac.…, global.…) enabled for the account in this region."
  type        = string
  default     = "anthropic.claude-3-haiku-20240307-v1:0"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$", var.bedrock_model_id))
    error_message = "bedrock_model_id must be a Bedrock model or inference profile id (letters, digits, '.', '_', ':', '-')."
  }
}

variable "concurrency" {
  description = "TRIAGE_CONCURRENCY: messages processed at once per task."
  type        = number
  default     = 16

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1024 && floor(var.concurrency) == var.concurrency
    error_message = "concurrency must be an integer 1-1024."
  }
}

variable "log_level" {
  description = "TRIAGE_LOG_LEVEL: debug, info, warning or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warning", "error"], var.log_level)
    error_message = "log_level must be debug, info, warning or error."
  }
}

variable "metrics_mode" {
  description = "TRIAGE_METRICS: emf (metric lines on stdout that CloudWatch Logs extracts; no API call), cloudwatch (batched PutMetricData; the task role gets cloudwatch:PutMetricData for cloudwatch_namespace only) or off."
  type        = string
  default     = "emf"

  validation {
    condition     = contains(["emf", "cloudwatch", "off"], var.metrics_mode)
    error_message = "metrics_mode must be emf, cloudwatch or off."
  }
}

variable "cloudwatch_namespace" {
  description = "CLOUDWATCH_NAMESPACE: the metric namespace the tasks write and the alarms and dashboard read (and the only one PutMetricData is allowed into). null: AlertTriage for name = \"triage\", else AlertTriage/<name>, so two instances in one account and region (staging beside production) keep their metrics and alarms apart."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_namespace == null || (can(regex("^[A-Za-z0-9.\\-_/#:]{1,255}$", coalesce(var.cloudwatch_namespace, "-"))) && !startswith(coalesce(var.cloudwatch_namespace, "-"), "AWS/"))
    error_message = "cloudwatch_namespace must be 1-255 characters of [A-Za-z0-9.-_/#:] and not start with AWS/."
  }
}

variable "shutdown_grace_s" {
  description = "TRIAGE_SHUTDOWN_GRACE_S: time in-flight messages get to finish after SIGTERM; must be at most stop_timeout_s - 7."
  type        = number
  default     = 23

  validation {
    condition     = var.shutdown_grace_s >= 0 && var.shutdown_grace_s <= 115
    error_message = "shutdown_grace_s must be 0-115 (it must fit inside stop_timeout_s, at most 120)."
  }
}

variable "visibility_timeout_s" {
  description = "TRIAGE_VISIBILITY_TIMEOUT_S and the queue's VisibilityTimeout: messages are hidden this long on receive and extended by the daemon's heartbeat."
  type        = number
  default     = 60

  validation {
    condition     = var.visibility_timeout_s >= 3 && var.visibility_timeout_s <= 43200 && floor(var.visibility_timeout_s) == var.visibility_timeout_s
    error_message = "visibility_timeout_s must be an integer 3-43200 (the daemon's and SQS's limits)."
  }
}

variable "extra_environment" {
  description = "Further daemon settings from the README's configuration table (e.g. TRIAGE_UPDATE_INTERVAL_S). Keys the module sets itself are rejected."
  type        = map(string)
  default     = {}

  # Names in any case: the daemon reads its settings case-insensitively, so triage_store_url
  # would set TRIAGE_STORE_URL too.
  validation {
    condition = length(setintersection([for k in keys(var.extra_environment) : upper(k)], [
      "ALERT_TRIAGE_QUEUE_URL", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_CLOUDWATCH_ENDPOINT", "TRIAGE_STORE_URL",
      "BACKEND_BASE_URL", "BACKEND_SERVICE_ROUTE", "BACKEND_TOKEN_SECRET_ID", "BACKEND_TOKEN", "TRIAGE_BACKEND_UPDATE_ROUTE",
      "TRIAGE_BACKEND_RESOLVE_ROUTE", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_BASE_URL", "GITHUB_TOKEN",
      "TRIAGE_CONCURRENCY", "TRIAGE_LOG_FORMAT", "TRIAGE_LOG_LEVEL", "TRIAGE_METRICS", "CLOUDWATCH_NAMESPACE",
      "TRIAGE_HTTP_PORT", "TRIAGE_SHUTDOWN_GRACE_S", "TRIAGE_VISIBILITY_TIMEOUT_S",
      "TRIAGE_LLM_PROVIDER", "TRIAGE_BEDROCK_MODEL_ID", "SLACK_WEBHOOK_URL",
    ])) == 0
    error_message = "extra_environment must not set a variable the module manages (queue, region, store, backend, secrets, LLM provider, logging, metrics, port, grace, visibility); use the dedicated variable."
  }

  # A credential in the environment is plain text in the task definition (anyone with
  # ecs:DescribeTaskDefinition reads it) and in the Terraform state.
  validation {
    condition = length(setintersection([for k in keys(var.extra_environment) : upper(k)], [
      "GITHUB_APP_PRIVATE_KEY", "TRIAGE_API_TOKEN", "TRIAGE_INGEST_TOKENS",
    ])) == 0
    error_message = "extra_environment must not hold a credential (GITHUB_APP_PRIVATE_KEY, TRIAGE_API_TOKEN, TRIAGE_INGEST_TOKENS): put it in a Secrets Manager secret and name it in extra_secrets."
  }
}

variable "extra_secrets" {
  description = "Further credentials ECS injects from Secrets Manager at task start (ECS secrets, read by the execution role): setting name -> the full ARN of a secret whose plain-string value becomes that variable (one key of a JSON secret: its ARN, then :KEY::), e.g. { TRIAGE_API_TOKEN = \"arn:aws:secretsmanager:…:secret:triage/api-token-AbCdEf\" } or GITHUB_APP_PRIVATE_KEY for a GitHub App. Names the module sets itself are refused."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection([for k in keys(var.extra_secrets) : upper(k)], [
      "ALERT_TRIAGE_QUEUE_URL", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_CLOUDWATCH_ENDPOINT", "TRIAGE_STORE_URL",
      "BACKEND_BASE_URL", "BACKEND_SERVICE_ROUTE", "BACKEND_TOKEN_SECRET_ID", "BACKEND_TOKEN", "TRIAGE_BACKEND_UPDATE_ROUTE",
      "TRIAGE_BACKEND_RESOLVE_ROUTE", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_BASE_URL", "GITHUB_TOKEN",
      "TRIAGE_CONCURRENCY", "TRIAGE_LOG_FORMAT", "TRIAGE_LOG_LEVEL", "TRIAGE_METRICS", "CLOUDWATCH_NAMESPACE",
      "TRIAGE_HTTP_PORT", "TRIAGE_SHUTDOWN_GRACE_S", "TRIAGE_VISIBILITY_TIMEOUT_S",
      "TRIAGE_LLM_PROVIDER", "TRIAGE_BEDROCK_MODEL_ID", "SLACK_WEBHOOK_URL",
    ])) == 0
    error_message = "extra_secrets must not set a variable the module manages (queue, region, store, backend, OPENAI_API_KEY, GITHUB_TOKEN, SLACK_WEBHOOK_URL, logging, metrics, port, grace, visibility); use the dedicated variable."
  }

  validation {
    condition     = alltrue([for arn in values(var.extra_secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}(:[^:]*:[^:]*:[^:]*)?$", arn))])
    error_message = "extra_secrets values must be secrets' full ARNs, ending in their six-character suffix (-AbCdEf), as describe-secret shows them (one key of a JSON secret: that ARN, then :KEY::): IAM matches the full ARN, so a partial one would be refused at the task's start."
  }
}

# --- Queue --------------------------------------------------------------------------------------

variable "max_receive_count" {
  description = "Receives before SQS moves a message to the DLQ (the redrive policy's maxReceiveCount). Permanent failures reach the DLQ after this many quick receives; transient ones after this many backoffs."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be 1-1000."
  }
}

variable "message_retention_s" {
  description = "How long the main queue keeps a message (default 4 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_s >= 60 && var.message_retention_s <= 1209600
    error_message = "message_retention_s must be 60-1209600 (14 days)."
  }
}

variable "dlq_message_retention_s" {
  description = "How long the DLQ keeps a dead letter (default the 14-day maximum). SQS keeps a message's original enqueue time when it moves it to a DLQ, so this must exceed message_retention_s."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_s >= 60 && var.dlq_message_retention_s <= 1209600
    error_message = "dlq_message_retention_s must be 60-1209600 (14 days)."
  }
}

variable "eventbridge_rule_arns" {
  description = "EventBridge rules (AWS Health, GuardDuty, Security Hub or any service's events) allowed to send to the queue through a queue policy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.eventbridge_rule_arns : can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:rule/.+$", r))])
    error_message = "eventbridge_rule_arns must hold EventBridge rule ARNs."
  }
}

variable "sns_topic_arns" {
  description = "SNS topics (e.g. CloudWatch alarm actions) allowed to send to the queue through a queue policy. Empty: no queue policy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.sns_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", t))])
    error_message = "sns_topic_arns must hold SNS topic ARNs."
  }
}

# --- Table --------------------------------------------------------------------------------------

variable "table_point_in_time_recovery" {
  description = "Point-in-time recovery on the incidents table."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Deletion protection on the incidents table (turn off before a destroy)."
  type        = bool
  default     = true
}

# --- Service and scaling ---------------------------------------------------------------------

variable "min_capacity" {
  description = "Fewest running tasks; also the service's initial desired count. 0 lets an idle queue scale the service to zero; an alarm then adds a task as soon as one alert waits with none in flight (about 1-3 minutes)."
  type        = number
  default     = 1

  validation {
    condition     = var.min_capacity >= 0 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be a whole number >= 0."
  }
}

variable "max_capacity" {
  description = "Most running tasks that queue-depth scaling may reach (must be >= min_capacity and >= 1)."
  type        = number
  default     = 4

  validation {
    condition     = var.max_capacity >= 1 && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be a whole number >= 1."
  }
}

variable "scale_out_backlog" {
  description = "ApproximateNumberOfMessagesVisible at or above which one task is added per evaluation; at 5x this backlog, two (step scaling)."
  type        = number
  default     = 100

  validation {
    condition     = var.scale_out_backlog >= 1
    error_message = "scale_out_backlog must be at least 1."
  }
}

variable "scale_in_backlog" {
  description = "ApproximateNumberOfMessagesVisible at or below which one task is removed, once it held for scale_in_evaluation_minutes (must be below scale_out_backlog)."
  type        = number
  default     = 0

  validation {
    condition     = var.scale_in_backlog >= 0
    error_message = "scale_in_backlog must be >= 0."
  }
}

variable "scale_in_evaluation_minutes" {
  description = "Minutes the queue must stay at or below scale_in_backlog before a task is removed."
  type        = number
  default     = 15

  validation {
    condition     = var.scale_in_evaluation_minutes >= 1 && var.scale_in_evaluation_minutes <= 1440
    error_message = "scale_in_evaluation_minutes must be 1-1440."
  }
}

variable "scale_out_cooldown_s" {
  description = "Seconds after a scale-out before another scaling activity."
  type        = number
  default     = 60

  validation {
    condition     = var.scale_out_cooldown_s >= 0
    error_message = "scale_out_cooldown_s must be >= 0."
  }
}

variable "scale_in_cooldown_s" {
  description = "Seconds after a scale-in before another scaling activity."
  type        = number
  default     = 300

  validation {
    condition     = var.scale_in_cooldown_s >= 0
    error_message = "scale_in_cooldown_s must be >= 0."
  }
}

variable "platform_version" {
  description = "Fargate platform version."
  type        = string
  default     = "LATEST"
}

variable "wait_for_steady_state" {
  description = "Make terraform apply wait until the service's deployment is steady."
  type        = bool
  default     = false
}

variable "create_operator_policy" {
  description = "Create a managed IAM policy with what `triage dlq peek|redrive` and `triage send` need (the worker's task role never gets these). Attach it to the operators' role."
  type        = bool
  default     = true
}

# --- Ingest gateway (optional) -------------------------------------------------------------------

variable "ingest_enabled" {
  description = "Run `triage ingest` as its own ECS service behind an HTTPS Application Load Balancer, so Grafana, Alertmanager, Sentry and scripts can post webhooks to the queue."
  type        = bool
  default     = false
}

variable "ingest_certificate_arn" {
  description = "ACM certificate of the ingest ALB's HTTPS listener (required with ingest_enabled); point a DNS name covered by it at the ALB (output ingest_alb_dns_name)."
  type        = string
  default     = null

  validation {
    condition     = var.ingest_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.ingest_certificate_arn))
    error_message = "ingest_certificate_arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)."
  }
}

variable "ingest_subnet_ids" {
  description = "Subnets of the ingest ALB, in at least two Availability Zones: public subnets for an internet-facing ALB (Sentry, Grafana Cloud), private ones with ingest_internal. The gateway's tasks run in subnet_ids."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.ingest_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "ingest_subnet_ids must hold subnet ids (subnet-...)."
  }
}

variable "ingest_internal" {
  description = "Make the ingest ALB internal (reachable only from the VPC and what is peered or connected to it)."
  type        = bool
  default     = false
}

variable "ingest_allowed_cidrs" {
  description = "IPv4 ranges allowed to reach the ingest ALB on 443 (every request still needs its source's token or Sentry signature)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.ingest_allowed_cidrs) > 0 && alltrue([for c in var.ingest_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "ingest_allowed_cidrs must hold at least one IPv4 CIDR block."
  }
}

variable "ingest_ssl_policy" {
  description = "TLS policy of the ingest ALB's HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.ingest_ssl_policy, "ELBSecurityPolicy-")
    error_message = "ingest_ssl_policy must be an ELB security policy name (ELBSecurityPolicy-...)."
  }
}

variable "ingest_desired_count" {
  description = "Gateway tasks (two spread load and survive one task's replacement)."
  type        = number
  default     = 2

  validation {
    condition     = var.ingest_desired_count >= 1 && floor(var.ingest_desired_count) == var.ingest_desired_count
    error_message = "ingest_desired_count must be a whole number >= 1."
  }
}

variable "ingest_tokens_secret_arn" {
  description = "An existing secret holding the gateway's tokens (TRIAGE_INGEST_TOKENS_SECRET_ID); null creates <name>/ingest-tokens, whose value you set."
  type        = string
  default     = null

  validation {
    condition     = var.ingest_tokens_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$", var.ingest_tokens_secret_arn))
    error_message = "ingest_tokens_secret_arn must be the secret's full ARN, ending in its six-character suffix (-AbCdEf), as describe-secret shows it: IAM matches the full ARN, so a partial one would be refused at the first read."
  }
}

variable "ingest_rate_per_s" {
  description = "TRIAGE_INGEST_RATE_PER_S: requests per second per source and task; beyond a burst of 5 s worth, 429 with Retry-After."
  type        = number
  default     = 20

  validation {
    condition     = var.ingest_rate_per_s > 0
    error_message = "ingest_rate_per_s must be > 0."
  }
}

variable "ingest_shutdown_grace_s" {
  description = "TRIAGE_SHUTDOWN_GRACE_S of the gateway: accepted requests get this long to finish after SIGTERM (after the ALB's deregistration delay); must be below stop_timeout_s - 5."
  type        = number
  default     = 10

  validation {
    condition     = var.ingest_shutdown_grace_s >= 0 && var.ingest_shutdown_grace_s <= 115
    error_message = "ingest_shutdown_grace_s must be 0-115."
  }
}

variable "ingest_deregistration_delay_s" {
  description = "Seconds the ALB keeps sending in-flight requests to a task being stopped before ECS sends it SIGTERM."
  type        = number
  default     = 15

  validation {
    condition     = var.ingest_deregistration_delay_s >= 0 && var.ingest_deregistration_delay_s <= 3600
    error_message = "ingest_deregistration_delay_s must be 0-3600."
  }
}

# --- Alarms and dashboard -----------------------------------------------------------------------

variable "alarms_enabled" {
  description = "Create the alarms of alarms.tf: DLQ not empty, oldest message too old, summarisation failures, a breaker open too long, ingest 5xx."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "An existing SNS topic every alarm notifies (on ALARM and on OK); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }
}

variable "create_alarm_topic" {
  description = "Create an SNS topic (<name>-alarms) that every alarm notifies; subscribe your pager or chat to it."
  type        = bool
  default     = false
}

variable "alarm_topic_kms_key_id" {
  description = "A customer managed KMS key (ARN, id or alias) encrypting the topic create_alarm_topic makes; its key policy must let cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*. null: the topic is not encrypted at rest (alarm notifications hold alarm names, states and metric values). SNS's AWS managed key (alias/aws/sns) is refused: CloudWatch alarms cannot publish through it."
  type        = string
  default     = null

  validation {
    condition     = !contains(["alias/aws/sns", "aws/sns"], lower(coalesce(var.alarm_topic_kms_key_id, "-")))
    error_message = "alarm_topic_kms_key_id must not be SNS's AWS managed key (alias/aws/sns): its key policy does not let CloudWatch use it, so every alarm action would fail. Use a customer managed key whose policy lets cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, or null."
  }
}

variable "alarm_oldest_message_age_s" {
  description = "Alarm when the queue's ApproximateAgeOfOldestMessage stays above this many seconds for 3 minutes."
  type        = number
  default     = 900

  validation {
    condition     = var.alarm_oldest_message_age_s >= 60
    error_message = "alarm_oldest_message_age_s must be at least 60 (SQS publishes the age once a minute)."
  }
}

variable "alarm_summarization_failure_percent" {
  description = "Alarm when more than this percentage of summaries fell back from the LLM to the deterministic summariser, two 5-minute periods running."
  type        = number
  default     = 20

  validation {
    condition     = var.alarm_summarization_failure_percent >= 0 && var.alarm_summarization_failure_percent < 100
    error_message = "alarm_summarization_failure_percent must be 0-99."
  }
}

variable "alarm_breaker_open_s" {
  description = "Alarm when a circuit breaker has been open this many seconds or more."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_breaker_open_s >= 60
    error_message = "alarm_breaker_open_s must be at least 60 (the daemon publishes its gauges every minute)."
  }
}

variable "alarm_ingest_5xx_percent" {
  description = "Alarm when more than this percentage of webhooks got a 5xx from triage ingest or its load balancer, two 5-minute periods running (only with ingest_enabled)."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_ingest_5xx_percent >= 0 && var.alarm_ingest_5xx_percent < 100
    error_message = "alarm_ingest_5xx_percent must be 0-99."
  }
}

variable "dashboard_enabled" {
  description = "Create the CloudWatch dashboard <name> of dashboard.tf (queue, tickets, LLM, sinks, breakers, ingest)."
  type        = bool
  default     = true
}
