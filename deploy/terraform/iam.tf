# Two roles, each with only what its caller does:
# - the execution role is ECS itself starting the task: pull the image, write the log stream,
#   read the secrets ECS injects (OPENAI_API_KEY, GITHUB_TOKEN);
# - the task role is the daemon (`triage run`, `triage check`): exactly the AWS calls in
#   src/triage (tests/test_deploy.py checks this list against the code), Bedrock's only with
#   llm_provider = "bedrock".

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Confused-deputy guard: only ECS acting for this account may assume the roles.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

# --- Execution role -------------------------------------------------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS starts triage tasks with this role: image pull, log stream, injected secrets."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "WriteLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
  }

  dynamic "statement" {
    for_each = local.ecr_repository_arn == null ? [] : [1]
    content {
      sid = "EcrAuthorization"
      # GetAuthorizationToken has no resource-level permissions.
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.ecr_repository_arn == null ? [] : [local.ecr_repository_arn]
    content {
      sid       = "PullTheImage"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(local.injected_secrets) == 0 ? [] : [1]
    content {
      sid       = "ReadInjectedSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.injected_secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.injected_secrets) == 0 || length(var.secrets_kms_key_arns) == 0 ? [] : [1]
    content {
      sid       = "DecryptInjectedSecrets"
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

resource "aws_iam_role_policy" "execution" {
  name   = "start-triage-task"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- Task role --------------------------------------------------------------------------------------

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "The triage daemon: consume the alerts queue, keep incidents, read the backend token."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "ConsumeAlertsQueue"
    # inbox.py: receive_message, delete_message_batch, change_message_visibility_batch,
    # get_queue_attributes (depth; check.py: the redrive policy). Batch calls authorize as the
    # single-message action.
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.main.arn]
  }

  statement {
    sid = "WatchDeadLetters"
    # sqs/depth.py: get_queue_attributes on the DLQ, for the DlqMessagesVisible gauge and the
    # status page.
    actions   = ["sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  statement {
    sid = "KeepIncidents"
    # incidents/dynamodb.py: get_item (consistent read), conditional put_item (records, and the
    # ping's own item), describe_table (open, and the ping's table status), scan (the operator
    # API's incident list, and the sweep's fallback) on the table.
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DescribeTable",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.incidents.arn]
  }

  statement {
    sid = "QuerySweepIndex"
    # incidents/dynamodb.py: query, only ever of the sweep index (IndexName=SWEEP_INDEX).
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.incidents.arn}/index/${local.sweep_index}"]
  }

  statement {
    sid = "ReadBackendToken"
    # secrets.py: get_secret_value on BACKEND_TOKEN_SECRET_ID.
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.backend_token_secret_arn]
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) == 0 ? [] : [1]
    content {
      sid       = "DecryptBackendToken"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    # Only with llm_provider = "bedrock" (`local.bedrock_model_arns` is empty otherwise).
    for_each = length(local.bedrock_model_arns) == 0 ? [] : [1]
    content {
      sid = "InvokeBedrockModel"
      # summarise/bedrock.py: converse, which authorises as bedrock:InvokeModel; on the
      # configured model (or inference profile) only.
      actions   = ["bedrock:InvokeModel"]
      resources = local.bedrock_model_arns
    }
  }

  dynamic "statement" {
    for_each = var.metrics_mode == "cloudwatch" ? [1] : []
    content {
      sid = "PutTriageMetrics"
      # metrics_export.py: put_metric_data. It has no resource-level permissions; the namespace
      # condition keeps the role out of every other namespace.
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "cloudwatch:namespace"
        values   = [local.cloudwatch_namespace]
      }
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "run-triage"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- Operators ------------------------------------------------------------------------------------

data "aws_iam_policy_document" "operator" {
  statement {
    sid = "InspectAndRedriveDeadLetters"
    # dlq.py: get_queue_url, get_queue_attributes, receive_message, delete_message_batch,
    # change_message_visibility_batch and start_message_move_task on the DLQ.
    actions = [
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:StartMessageMoveTask",
    ]
    resources = [aws_sqs_queue.dlq.arn]
  }

  statement {
    sid = "OperateIncidents"
    # `triage incidents list|show` and `triage silence` open the daemon's store,
    # incidents/dynamodb.py: describe_table (open: the table exists, DynamoDB's clock), get_item,
    # put_item (silences), scan (listing) on the table. `triage incidents close` also calls the
    # sinks, so it needs their credentials, or runs as a one-off task of the daemon's task
    # definition (`aws ecs run-task` with the command overridden: the task role and secrets).
    # The module does not enable ECS Exec.
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.incidents.arn]
  }

  statement {
    sid = "QuerySweepIndex"
    # incidents/dynamodb.py: query of the sweep index, the store's only query.
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.incidents.arn}/index/${local.sweep_index}"]
  }

  statement {
    sid = "SendToAlertsQueue"
    # dlq.py (redrive) and cli.py (`triage send`): send_message_batch, get_queue_attributes.
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.main.arn]
  }
}

resource "aws_iam_policy" "operator" {
  count       = var.create_operator_policy ? 1 : 0
  name        = "${var.name}-operator"
  description = "triage dlq, send, incidents and silence against the ${var.name} queues and table."
  policy      = data.aws_iam_policy_document.operator.json
  tags        = var.tags
}
