# The backend's bearer token. The daemon reads it itself (BACKEND_TOKEN_SECRET_ID, task role),
# caches it for TRIAGE_BACKEND_TOKEN_TTL_S and re-reads it after a 401, so a rotated token is
# picked up without a redeploy. Terraform never holds the value: set it once, out of band:
#   aws secretsmanager put-secret-value --secret-id <backend_token_secret_arn> \
#     --secret-string '{"BACKEND_TOKEN":"..."}'
resource "aws_secretsmanager_secret" "backend_token" {
  count                   = var.backend_token_secret_arn == null ? 1 : 0
  name                    = "${var.name}/backend-token"
  description             = "Bearer token triage sends to the ticket backend (JSON {\"BACKEND_TOKEN\": \"...\"} or a plain string)."
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}
