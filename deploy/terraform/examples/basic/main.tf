# The smallest real deployment: a cluster, an egress-only security group and the module.
# Copy terraform.tfvars.example to terraform.tfvars, fill it in, then `terraform apply`.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Application = "triage" }
  }
}

resource "aws_ecs_cluster" "this" {
  name = "triage"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

# The worker serves nothing to the network; it only calls out (AWS APIs, the backend), on 443.
# DNS needs no rule: security groups do not filter queries to the VPC's own resolver.
resource "aws_security_group" "triage" {
  name        = "triage-tasks"
  description = "triage tasks: no inbound, HTTPS out"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.triage.id
  description       = "AWS APIs, the ticket backend, the LLM"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

module "triage" {
  source = "../.."

  name               = "triage"
  cluster_name       = aws_ecs_cluster.this.name
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [aws_security_group.triage.id]
  container_image    = var.container_image
  backend_base_url   = var.backend_base_url
  sns_topic_arns     = var.alarm_topic_arns

  min_capacity = 1
  max_capacity = 4

  # The webhook gateway, when a certificate is given (README: "Getting alerts in").
  ingest_enabled         = var.ingest_certificate_arn != null
  ingest_certificate_arn = var.ingest_certificate_arn
  ingest_subnet_ids      = var.public_subnet_ids
}
