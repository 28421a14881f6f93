terraform {
  # optional() object attributes need 1.3; lifecycle preconditions and check-free validation 1.2.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x: aws_sqs_queue_redrive_allow_policy, ECS deployment_circuit_breaker and the
      # data.aws_region.name attribute this module reads (renamed in 6.x).
      version = ">= 5.40.0, < 6.0.0"
    }
  }
}
