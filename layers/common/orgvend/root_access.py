"""Root-user hygiene: does the organization manage member accounts' root access centrally?

With IAM's centralised root access management (``RootCredentialsManagement`` in
``ListOrganizationsFeatures``) member accounts have no root credentials to
secure; otherwise each new account's owner must reset the root password and
enable MFA, and the onboarding message carries that checklist.
"""

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from orgvend.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"


def root_credentials_management(iam: "IAMClient | None") -> bool | None:
    """True or False as IAM answers; None (unknown) when it cannot be asked."""
    if iam is None:
        return None
    try:
        features = iam.list_organizations_features().get("EnabledFeatures", [])
    # moto answers an operation it lacks with an HTML 500 page: unknown too.
    except (ClientError, BotoCoreError, ResponseParserError, NotImplementedError) as error:
        logger.warning("Root access management unknown", extra={"error": str(error)})
        return None
    return ROOT_CREDENTIALS_MANAGEMENT in features
