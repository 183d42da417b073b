"""S3 bucket policies decided as IAM decides them: a statement applies only when its conditions hold."""

import json
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

from orgvend_local.parity.patch import Emulator, Patcher, declared, refusal, still, stock_moto
from orgvend_local.policy_evaluation import Decision, Request, evaluate_policy

# What every request to AWS's endpoints carries: they speak only TLS (the embedded AWS's plain HTTP
# stands in for them).
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::canary", "arn:aws:s3:::canary/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def apply_bucket_policy_conditions(patcher: Patcher, _emulator: Emulator) -> None:
    """The bucket's policy is evaluated by ``policy_evaluation`` (Action, Resource, Principal, conditions)
    for a request made over TLS, as every request to AWS is. moto passes no caller: the statement's
    principal is matched against the bucket owner's default identity, so a statement naming ``*`` (the
    TLS-only one) is decided exactly, one naming someone else is not applied."""

    def get_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return PermissionResult.NEUTRAL
        request = Request(
            principal_arn=f"arn:aws:iam::{bucket.account_id}:user/moto",
            action=action,
            resource=resource,
            context=REQUEST_CONTEXT,
        )
        decision = evaluate_policy(json.loads(bucket.policy), request, resource_based=True)
        if decision is Decision.EXPLICIT_DENY:
            return PermissionResult.DENIED
        return PermissionResult.PERMITTED if decision is Decision.ALLOWED else PermissionResult.NEUTRAL

    patcher.replace(FakeBucket, "get_permission", get_permission)


def canary_bucket_policy_conditions() -> None:
    """moto refuses an object write to a bucket whose policy only denies requests made without TLS."""
    with stock_moto() as session:
        s3 = session.client("s3")
        s3.create_bucket(Bucket="canary")
        s3.put_bucket_policy(Bucket="canary", Policy=json.dumps(TLS_ONLY))
        code = refusal(lambda: s3.put_object(Bucket="canary", Key="costs/2026-11.csv", Body=b"month\n"))
        still(code is not None, "PutObject under the TLS-only policy succeeded")


BUCKET_POLICY_CONDITIONS = declared(
    "s3-bucket-policy-conditions",
    apply=apply_bucket_policy_conditions,
    canary=canary_bucket_policy_conditions,
)
