# The order management system as one Nomad job: a group per service, each instance on ports of its
# own. The services register themselves in Consul (with their gRPC health check) and deregister on
# SIGTERM, so Nomad registers nothing there; its own catalog holds a service per group only for its
# deployment checks. See "Running on a cluster" in the README.
#
#   raw_exec (the built bundles of a checkout on the node):
#     nomad job run -var driver=raw_exec -var bundle_dir=$PWD -var node=$(command -v node) deploy/nomad/oms.nomad.hcl
#   docker (the Dockerfile's images, pushed where the nodes can pull them):
#     nomad job run -var driver=docker -var image_prefix=registry.example.com/oms/ -var image_tag=0.1.0 deploy/nomad/oms.nomad.hcl
#
# Secrets (ADMIN_TOKEN, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, and MONGO_URL / AMQP_URL when they
# carry credentials) come from the Nomad variable nomad/jobs/oms; with NODE_ENV=production (the
# default) a service refuses to start on the local development defaults.

variable "driver" {
  type        = string
  default     = "docker"
  description = "raw_exec: run dist/apps/<service>/main.js under bundle_dir with node; docker: run image_prefix<service>:image_tag"
  validation {
    condition     = contains(["raw_exec", "docker"], var.driver)
    error_message = "The driver is raw_exec or docker."
  }
}

variable "bundle_dir" {
  type        = string
  default     = "/opt/oms"
  description = "raw_exec: a built checkout (dist/apps, node_modules, proto) present on every node"
}

variable "node" {
  type        = string
  default     = "/usr/bin/node"
  description = "raw_exec: the Node.js (>= 20) binary on the nodes"
}

variable "node_flags" {
  type        = list(string)
  default     = ["--max-semi-space-size=32"]
  description = "raw_exec: V8 flags of every service (as tools/services.mjs SERVICE_NODE_FLAGS; the images have them in their CMD)"
}

variable "image_prefix" {
  type        = string
  default     = "oms/"
  description = "docker: images are <image_prefix><service>:<image_tag> (docker build --build-arg APP=<service>)"
}

variable "image_tag" {
  type    = string
  default = "latest"
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "deployment" {
  type        = string
  default     = "prod"
  description = "OMS_ENV: the Consul tag env-<deployment> and the databases <service>_<deployment>"
}

variable "node_env" {
  type        = string
  default     = "production"
  description = "NODE_ENV; production refuses the local default secrets"
}

variable "consul_url" {
  type    = string
  default = "http://127.0.0.1:8500"
}

variable "mongo_url" {
  type    = string
  default = "mongodb://127.0.0.1:27017"
}

variable "amqp_url" {
  type    = string
  default = "amqp://guest:guest@127.0.0.1:5672"
}

variable "otlp_endpoint" {
  type    = string
  default = "http://127.0.0.1:4317"
}

variable "stripe_api_url" {
  type    = string
  default = "https://api.stripe.com"
}

variable "counts" {
  type        = map(number)
  default     = {}
  description = "instances per service, over the defaults below (gateway 2, every gRPC service 2)"
}

variable "service_env" {
  type        = map(map(string))
  default     = {}
  description = "more variables per service, e.g. { order = { MENU_CACHE_TTL_MS = \"1000\" } }"
}

variable "shutdown_drain_ms" {
  type        = number
  default     = 10000
  description = "SHUTDOWN_DRAIN_MS; kill_timeout below leaves room for it"
}

locals {
  # cpu in MHz, memory in MB: measured resident sizes (README, Benchmark) with room to grow
  services = {
    gateway = { kind = "http", count = 2, cpu = 250, memory = 320 }
    order   = { kind = "grpc", count = 2, cpu = 250, memory = 320 }
    stock   = { kind = "grpc", count = 2, cpu = 250, memory = 256 }
    menu    = { kind = "grpc", count = 2, cpu = 100, memory = 160 }
    payment = { kind = "grpc", count = 2, cpu = 150, memory = 256 }
    kitchen = { kind = "grpc", count = 2, cpu = 100, memory = 160 }
  }
  shutdown_grace_ms = 300
  # Nomad sends SIGKILL after kill_timeout (which a client caps at its max_kill_timeout, 30 s by
  # default): grace, in-flight calls (drain + 1 s) and the closing steps (13 s at most) fit in it.
  kill_timeout_s = ceil((local.shutdown_grace_ms + var.shutdown_drain_ms + 1000 + 13000) / 1000) + 2
}

job "oms" {
  type        = "service"
  datacenters = var.datacenters

  dynamic "group" {
    for_each = local.services
    labels   = [group.key]

    content {
      count = lookup(var.counts, group.key, group.value.count)

      network {
        # dynamic ports: any number of instances per machine, each registering its own
        port "main" {}
        port "metrics" {}
      }

      # Nomad's own view of an instance, for its deployments only: a service in Nomad's catalog (not
      # Consul's, where the instance registers itself) whose check passes once the instance listens
      # (gRPC services) or is ready (the gateway's /readyz). Without it Nomad counts a task healthy
      # once its process runs, seconds before it serves.
      service {
        provider = "nomad"
        name     = "oms-${group.key}"
        port     = "main"

        dynamic "check" {
          for_each = group.value.kind == "grpc" ? [1] : []
          content {
            type     = "tcp"
            interval = "2s"
            timeout  = "1s"
          }
        }

        dynamic "check" {
          for_each = group.value.kind == "http" ? [1] : []
          content {
            type     = "http"
            path     = "/readyz"
            interval = "2s"
            timeout  = "1s"
          }
        }
      }

      # One new instance first (a canary); once its check has passed for min_healthy_time, the old
      # ones are replaced. An old instance leaves Consul on SIGTERM before it stops serving, and the
      # canary is in Consul by then, so callers always have a passing instance.
      update {
        max_parallel      = 1
        canary            = 1
        auto_promote      = true
        auto_revert       = true
        health_check      = "checks"
        min_healthy_time  = "5s"
        healthy_deadline  = "2m"
        progress_deadline = "5m"
      }

      restart {
        attempts = 3
        interval = "2m"
        delay    = "2s"
        mode     = "delay"
      }

      dynamic "task" {
        for_each = [group.key]
        labels   = [task.value]

        content {
          driver = var.driver

          # The service's own shutdown: NOT_SERVING, deregister from Consul, SHUTDOWN_GRACE_MS, drain.
          # Nomad has no registration of its own to remove first, so no shutdown_delay.
          kill_signal  = "SIGTERM"
          kill_timeout = "${local.kill_timeout_s}s"

          dynamic "config" {
            for_each = var.driver == "raw_exec" ? [1] : []
            content {
              command = var.node
              args    = concat(var.node_flags, ["${var.bundle_dir}/dist/apps/${group.key}/main.js"])
            }
          }

          dynamic "config" {
            for_each = var.driver == "docker" ? [1] : []
            content {
              image = "${var.image_prefix}${group.key}:${var.image_tag}"
              # the host's network: the service binds its dynamic port itself and registers that port
              network_mode = "host"
              init         = true
            }
          }

          env {
            NODE_ENV                    = var.node_env
            OMS_ENV                     = var.deployment
            CONSUL_URL                  = var.consul_url
            MONGO_URL                   = var.mongo_url
            AMQP_URL                    = var.amqp_url
            OTEL_EXPORTER_OTLP_ENDPOINT = var.otlp_endpoint
            STRIPE_API_URL              = var.stripe_api_url
            # this instance's own address and ports: the gateway reads GATEWAY_*, the others GRPC_*
            ADVERTISE_HOST    = "${NOMAD_IP_main}"
            GRPC_HOST         = "${NOMAD_IP_main}"
            GRPC_PORT         = "${NOMAD_PORT_main}"
            GATEWAY_HOST      = "${NOMAD_IP_main}"
            GATEWAY_PORT      = "${NOMAD_PORT_main}"
            METRICS_PORT      = "${NOMAD_PORT_metrics}"
            SHUTDOWN_GRACE_MS = "${local.shutdown_grace_ms}"
            SHUTDOWN_DRAIN_MS = "${var.shutdown_drain_ms}"
          }

          # service_env of this service (an env block cannot take a map of unknown keys)
          template {
            destination = "local/service.env"
            env         = true
            change_mode = "restart"
            data        = join("", concat(["# service_env.${group.key}\n"], [for name, value in lookup(var.service_env, group.key, {}) : "${name}=${jsonencode(value)}\n"]))
          }

          # Secrets from the Nomad variable nomad/jobs/oms (nomad var put nomad/jobs/oms KEY=value ...);
          # none when it does not exist.
          template {
            destination = "secrets/oms.env"
            env         = true
            change_mode = "restart"
            data        = <<-EOT
            {{ if nomadVarExists "nomad/jobs/oms" }}{{ with nomadVar "nomad/jobs/oms" }}{{ range $key, $value := . }}
            {{ $key }}={{ $value | toJSON }}{{ end }}{{ end }}{{ end }}
          EOT
          }

          resources {
            cpu    = group.value.cpu
            memory = group.value.memory
          }

          logs {
            max_files     = 3
            max_file_size = 10
          }
        }
      }
    }
  }
}
