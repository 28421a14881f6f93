terraform {
  # startswith() in validations needs 1.5 (preconditions 1.2). Validated with 1.11.4.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x: ECS deployment_circuit_breaker and the
      # data.aws_region.name attribute this module reads (renamed in 6.x).
      version = ">= 5.40.0, < 6.0.0"
    }
  }
}
