variable "region" {
  description = "AWS Region to deploy into."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the private subnets; the example creates an egress-only security group in it."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (with a NAT gateway or VPC endpoints) for the tasks."
  type        = list(string)
}

variable "container_image" {
  description = "The pushed triage image, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/triage:1.0.0."
  type        = string
}

variable "backend_base_url" {
  description = "The ticket backend triage posts to (BACKEND_BASE_URL)."
  type        = string
}

variable "alarm_topic_arns" {
  description = "SNS topics of your CloudWatch alarms, allowed to send to the queue."
  type        = list(string)
  default     = []
}

variable "ingest_certificate_arn" {
  description = "ACM certificate for the webhook gateway's HTTPS listener; set it (with public_subnet_ids) to run triage ingest for Grafana, Alertmanager, Sentry and scripts."
  type        = string
  default     = null
}

variable "public_subnet_ids" {
  description = "Public subnets in two Availability Zones for the gateway's load balancer (only with ingest_certificate_arn)."
  type        = list(string)
  default     = []
}
