"""One list call of a collection: what it reads, for which subscriptions, what it may lead to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

#: A call's body gets a sink for raw ARM resources (REST shape) and returns follow-up calls.
Sink = Callable[[dict], None]


@dataclass
class Call:
    scope: str  # the ARM collection read, e.g. "virtualNetworks", "resourceGraph", "subscriptions"
    subscription_ids: list[str]  # whose coverage an error here affects (empty for discovery)
    run: Callable[[Sink], "list[Call] | None"]
    fatal: bool = False  # discovery: failure stops the whole collection (bad credential, no access)


@dataclass
class Found:
    """Discovery results: subscriptions with their metadata and the credential to read them with."""

    subscriptions: dict[str, dict] = field(default_factory=dict)  # lower id -> {subscriptionId, tenantId, displayName, state}
    tenants: dict[str, dict] = field(default_factory=dict)  # lower id -> {tenantId, displayName, defaultDomain}
