"""moto_server plus the two EC2 calls hybridctl makes that moto does not implement.

moto keeps the region's default EBS key (ModifyEbsDefaultKmsKeyId works) but has no
GetEbsDefaultKmsKeyId or ResetEbsDefaultKmsKeyId. These follow the EC2 API reference:
the default key is the AWS-managed alias/aws/ebs until ModifyEbsDefaultKmsKeyId names
another, and Reset returns to it. Everything else is moto as released.
"""

import sys

from moto.core.responses import ActionResult
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
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

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
