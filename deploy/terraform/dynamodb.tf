# The incidents table of src/triage/incidents/dynamodb.py: one item per fingerprint (partition key,
# string), conditional PutItem on `version`, and `expires_at` (epoch seconds) as the TTL attribute
# that forgets closed incidents after TRIAGE_CLOSED_TTL_S. The sparse index `sweep` holds only the
# incidents the sweep must look at (a silence holds their effect, an escalation is due): items
# with `sweep` = "due" and `sweep_at` (epoch seconds); keys only, the sweep reads each item itself.
locals {
  #: incidents/dynamodb.py's SWEEP_INDEX: the one index, and the only thing the roles query.
  sweep_index = "sweep"
}

resource "aws_dynamodb_table" "incidents" {
  name                        = "${var.name}-incidents"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "fingerprint"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "fingerprint"
    type = "S"
  }

  attribute {
    name = "sweep"
    type = "S"
  }

  attribute {
    name = "sweep_at"
    type = "N"
  }

  global_secondary_index {
    name            = local.sweep_index
    hash_key        = "sweep"
    range_key       = "sweep_at"
    projection_type = "KEYS_ONLY"
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
