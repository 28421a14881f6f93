# The incidents table of src/triage/store_dynamodb.py: one item per fingerprint (partition key,
# string), conditional PutItem on `version`, and `expires_at` (epoch seconds) as the TTL attribute
# that forgets closed incidents after TRIAGE_CLOSED_TTL_S.
resource "aws_dynamodb_table" "incidents" {
  name                        = "${var.name}-incidents"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "fingerprint"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "fingerprint"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.table_point_in_time_recovery
  }

  tags = var.tags
}
