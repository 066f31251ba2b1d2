"""moto_server with the few fixes hybridctl's tests need; everything else is moto as released.

1. EC2 GetEbsDefaultKmsKeyId and ResetEbsDefaultKmsKeyId, which moto lacks. moto keeps the
   region's default EBS key (ModifyEbsDefaultKmsKeyId works); these follow the EC2 API
   reference: the default is the AWS-managed alias/aws/ebs until another key is named, and
   Reset returns to it.
2. Bucket-policy conditions. moto evaluates bucket policies on object requests but passes no
   condition context and treats a statement whose condition does not match as an explicit
   deny, and it knows no Bool operator. AWS treats a statement whose condition does not
   match as not applying. We pass aws:SecureTransport (from the request's scheme), add Bool,
   and make unmatched conditions neutral, so a "deny without TLS" policy denies plain-HTTP
   requests and nothing else, as in AWS.
3. HYBRIDCTL_TEST_LATENCY_MS: an optional delay per request, so that tests which interrupt
   the CLI can land inside a run rather than after it.
4. Elastic IPs are public addresses, as in AWS: moto draws them from 127.0.0.0/8, which no
   network routes. We draw them from moto's own public range (random_public_ip, 54.214.0.0/16),
   which the VPN tests route to their stand-in for the VPC.
5. Conditional writes are atomic, as in S3: moto checks If-Match / If-None-Match and then
   writes as two steps, so two concurrent "create only if absent" PutObjects can both succeed
   on its threaded server. The run lock's tests race exactly that, so object writes and
   deletes take one lock each.
6. Flow logs into a folder of an S3 bucket (`arn:aws:s3:::bucket/folder/`), which AWS accepts:
   moto takes everything after `:::` for the bucket's name and finds no such bucket. We check the
   bucket by its name and keep the destination as given.
7. Target health as the load balancer's stand-in (test/support/lb-standin.ts) measured it: moto
   reports every registered target healthy. The stand-in posts what its health checks found to
   POST /hybridctl-harness/target-health, a harness endpoint (not an AWS API, not recorded), with
   {"targetGroupArn": ..., "targets": {"<id>": {"state": "healthy|unhealthy|initial|draining",
   "reason": ..., "description": ...}}}, which replaces that group's overrides. A registered
   target with an override reports it in DescribeTargetHealth; every other target is reported
   as moto does.
8. Athena UpdateWorkGroup, which moto lacks: the workgroup's description and configuration
   change as the Athena API reference says (ResultConfigurationUpdates replace or, with the
   Remove* flags, clear the result settings; the other fields replace theirs).
"""

import json
import os
import sys
import threading
import time

from moto.athena.responses import AthenaResponse
from moto.core.responses import ActionResult
from moto.ec2.models import elastic_ip_addresses
from moto.ec2.models.flow_logs import FlowLogsBackend
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup
from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.responses import S3Response
from moto.ec2.utils import random_public_ip
from moto.server import main


def _aws_managed_key_arn(backend: EBSBackend) -> str:
    return f"arn:aws:kms:{backend.region_name}:{backend.account_id}:alias/aws/ebs"


def get_ebs_default_kms_key_id(self: ElasticBlockStore) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    return ActionResult({"KmsKeyId": backend.default_kms_key_id or _aws_managed_key_arn(backend)})


def reset_ebs_default_kms_key_id(self: ElasticBlockStore) -> ActionResult:
    self.error_on_dryrun()
    backend = self.ec2_backend
    backend.default_kms_key_id = ""
    return ActionResult({"KmsKeyId": _aws_managed_key_arn(backend)})


ElasticBlockStore.get_ebs_default_kms_key_id = get_ebs_default_kms_key_id
ElasticBlockStore.reset_ebs_default_kms_key_id = reset_ebs_default_kms_key_id

elastic_ip_addresses.random_ip = random_public_ip

_request = threading.local()
_dispatch = DomainDispatcherApplication.__call__


_latency = int(os.environ.get("HYBRIDCTL_TEST_LATENCY_MS", "0")) / 1000


def _remember_scheme(self, environ, start_response):
    _request.secure = environ.get("wsgi.url_scheme") == "https"
    if environ.get("PATH_INFO") == _TARGET_HEALTH_PATH and environ.get("REQUEST_METHOD") == "POST":
        return _set_target_health(environ, start_response)
    if _latency and not environ.get("PATH_INFO", "").startswith("/moto-api"):
        time.sleep(_latency)
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = _remember_scheme

_TARGET_HEALTH_PATH = "/hybridctl-harness/target-health"
_TARGET_STATES = {"healthy", "unhealthy", "initial", "draining"}
# Target group ARN -> target id -> {"state", "reason", "description"}, as the stand-in last posted.
_target_health: dict = {}


def _set_target_health(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        arn = body["targetGroupArn"]
        targets = {str(k): dict(v) for k, v in body.get("targets", {}).items()}
        bad = [k for k, v in targets.items() if v.get("state") not in _TARGET_STATES]
        if bad:
            raise ValueError(f"state must be one of {sorted(_TARGET_STATES)}: {bad}")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [f"bad target health: {error}".encode()]
    _target_health[arn] = targets
    start_response("204 No Content", [])
    return [b""]


_health_for = FakeTargetGroup.health_for


def _health_as_measured(self, target, ec2_backend):
    registered = self.targets.get(target["Id"])
    override = _target_health.get(self.arn, {}).get(target["Id"]) if registered else None
    if not override:
        return _health_for(self, target, ec2_backend)
    return FakeHealthStatus(
        registered["Id"],
        registered["Port"],
        self.health_check_port,
        override["state"],
        override.get("reason"),
        override.get("description"),
    )


FakeTargetGroup.health_for = _health_as_measured


def _bool_equals(expected, actual: str) -> bool:
    values = expected if isinstance(expected, list) else [expected]
    return any(str(v).lower() == str(actual).lower() for v in values)


policy_conditions.CONDITION_OPERATIONS["Bool"] = _bool_equals

_is_action_permitted = IAMPolicyStatement.is_action_permitted


def _is_action_permitted_with_context(self, action, resource="*", principal=None, incoming_condition_values=None):
    if incoming_condition_values is None:
        incoming_condition_values = {"aws:SecureTransport": "true" if getattr(_request, "secure", False) else "false"}
    if self._statement.get("Condition") and not self._check_conditions(incoming_condition_values):
        return PermissionResult.NEUTRAL
    return _is_action_permitted(self, action, resource, principal, incoming_condition_values)


IAMPolicyStatement.is_action_permitted = _is_action_permitted_with_context

_object_writes = threading.Lock()


def _one_at_a_time(method):
    def serialised(self, *args, **kwargs):
        with _object_writes:
            return method(self, *args, **kwargs)

    return serialised


S3Response.put_object = _one_at_a_time(S3Response.put_object)
S3Response.delete_object = _one_at_a_time(S3Response.delete_object)

_create_flow_logs = FlowLogsBackend.create_flow_logs


def _create_flow_logs_in_folder(self, *args, **kwargs):
    destination = kwargs.get("log_destination") or ""
    bucket_and_folder = destination.split(":::", 1)[-1]
    if kwargs.get("log_destination_type") != "s3" or "/" not in bucket_and_folder:
        return _create_flow_logs(self, *args, **kwargs)
    kwargs["log_destination"] = destination.split("/", 1)[0]
    flow_logs, errors = _create_flow_logs(self, *args, **kwargs)
    for flow_log in flow_logs:
        flow_log.log_destination = destination
    return flow_logs, errors


FlowLogsBackend.create_flow_logs = _create_flow_logs_in_folder


def _update_work_group(self: AthenaResponse) -> str:
    group = self.athena_backend.work_groups.get(self._get_param("WorkGroup"))
    if group is None:
        return self.error("WorkGroup does not exist", 400)
    if self._get_param("Description") is not None:
        group.description = self._get_param("Description")
    updates = self._get_param("ConfigurationUpdates") or {}
    configuration = group.configuration
    result_updates = updates.get("ResultConfigurationUpdates") or {}
    result = dict(configuration.get("ResultConfiguration") or {})
    for field in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration"):
        if result_updates.get(f"Remove{field}"):
            result.pop(field, None)
        elif field in result_updates:
            result[field] = result_updates[field]
    if result_updates:
        configuration["ResultConfiguration"] = result
    for field, value in updates.items():
        if field != "ResultConfigurationUpdates" and not field.startswith("Remove"):
            configuration[field] = value
    return "{}"


AthenaResponse.update_work_group = _update_work_group

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
