#!/usr/bin/env bash
# Creates what triage needs in a local AWS (LocalStack's ready hook, or any endpoint):
# the alerts queue with a DLQ redrive policy (maxReceiveCount 5), the backend token secret and
# the incidents table with its TTL. Idempotent: re-running it changes nothing that exists.
set -euo pipefail

endpoint="${AWS_ENDPOINT_URL:-http://localhost:4566}"
# AWS_DEFAULT_REGION too: the compose file gives LocalStack (and so this hook) only that one.
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
queue="${TRIAGE_QUEUE_NAME:-alerts}"
secret_id="${BACKEND_TOKEN_SECRET_ID:-triage/backend-token}"
token="${BACKEND_TOKEN:-dev-token}"
table="${TRIAGE_TABLE_NAME:-triage-incidents}"
services="${TRIAGE_INIT_SERVICES:-sqs secretsmanager dynamodb}"

aws_() { aws --endpoint-url "$endpoint" --region "$region" --output text "$@"; }

if [[ " $services " == *" sqs "* ]]; then
  # 14 days: longer than the queue keeps messages, as a letter keeps its first enqueue time.
  dlq_url=$(aws_ sqs create-queue --queue-name "$queue-dlq" --attributes MessageRetentionPeriod=1209600 --query QueueUrl)
  dlq_arn=$(aws_ sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn \
    --query Attributes.QueueArn)
  redrive="{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":\"5\"}"
  attributes=$(printf '{"VisibilityTimeout":"60","RedrivePolicy":%s}' \
    "$(printf '%s' "$redrive" | sed 's/"/\\"/g; s/^/"/; s/$/"/')")
  queue_url=$(aws_ sqs create-queue --queue-name "$queue" --attributes "$attributes" --query QueueUrl)
  echo "queue $queue_url (DLQ $dlq_arn)"
fi

if [[ " $services " == *" secretsmanager "* ]]; then
  if ! aws_ secretsmanager describe-secret --secret-id "$secret_id" >/dev/null 2>&1; then
    aws_ secretsmanager create-secret --name "$secret_id" \
      --secret-string "{\"BACKEND_TOKEN\":\"$token\"}" >/dev/null
  fi
  echo "secret $secret_id"
fi

if [[ " $services " == *" dynamodb "* ]]; then
  if ! aws_ dynamodb describe-table --table-name "$table" >/dev/null 2>&1; then
    # The sweep index, as incidents/dynamodb.py's create_table makes it.
    aws_ dynamodb create-table --table-name "$table" \
      --attribute-definitions AttributeName=fingerprint,AttributeType=S \
        AttributeName=sweep,AttributeType=S AttributeName=sweep_at,AttributeType=N \
      --key-schema AttributeName=fingerprint,KeyType=HASH \
      --global-secondary-indexes \
        'IndexName=sweep,KeySchema=[{AttributeName=sweep,KeyType=HASH},{AttributeName=sweep_at,KeyType=RANGE}],Projection={ProjectionType=KEYS_ONLY}' \
      --billing-mode PAY_PER_REQUEST >/dev/null
    aws_ dynamodb wait table-exists --table-name "$table"
    aws_ dynamodb update-time-to-live --table-name "$table" \
      --time-to-live-specification Enabled=true,AttributeName=expires_at >/dev/null
  fi
  echo "table $table"
fi
