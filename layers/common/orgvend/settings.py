"""Configuration read from the environment that ``template.yaml`` gives each function."""

import os
from dataclasses import dataclass
from datetime import timedelta


def _listed(name: str) -> tuple[str, ...]:
    """A comma-separated variable (a CommaDelimitedList parameter, joined) as its non-empty items."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    registry_table_name: str
    operator_topic_arn: str
    event_bus_name: str
    access_role_names: tuple[str, ...]
    clients_parent_ou_id: str
    baseline_policy_name: str
    event_source: str
    max_creations_in_progress: int
    creation_timeout_seconds: int
    allowed_email_domains: tuple[str, ...]
    # Who the access role in each account trusts (ARN patterns of the management account's principals).
    orgvend_principal_arns: tuple[str, ...]
    operator_principal_arns: tuple[str, ...]

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls(
            registry_table_name=os.environ.get("REGISTRY_TABLE_NAME", ""),
            operator_topic_arn=os.environ.get("OPERATOR_TOPIC_ARN", ""),
            event_bus_name=os.environ.get("EVENT_BUS_NAME", "default"),
            access_role_names=tuple(
                name.strip()
                for name in os.environ.get("ACCESS_ROLE_NAMES", "OrganizationAccountAccessRole").split(",")
                if name.strip()
            ),
            clients_parent_ou_id=os.environ.get("CLIENTS_PARENT_OU_ID", ""),
            baseline_policy_name=os.environ.get("BASELINE_POLICY_NAME", "OrgvendAdministratorMinusBilling"),
            event_source=os.environ.get("EVENT_SOURCE", "orgvend"),
            max_creations_in_progress=int(os.environ.get("MAX_CREATIONS_IN_PROGRESS", "5")),
            creation_timeout_seconds=int(os.environ.get("CREATION_TIMEOUT_SECONDS", "1800")),
            allowed_email_domains=_listed("ALLOWED_EMAIL_DOMAINS"),
            orgvend_principal_arns=_listed("ORGVEND_PRINCIPAL_ARNS"),
            operator_principal_arns=_listed("OPERATOR_PRINCIPAL_ARNS"),
        )

    @property
    def default_role_name(self) -> str:
        """The organization's naming convention: the first of the allowed access role names."""
        return self.access_role_names[0]

    @property
    def creation_lease(self) -> timedelta:
        """How long a creation slot is held at most: the creation timeout, and a margin for the last poll."""
        return timedelta(seconds=self.creation_timeout_seconds + 300)
