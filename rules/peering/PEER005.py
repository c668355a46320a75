"""PEER005 peering-remote-out-of-scope."""

from auditor.analysis.hubs import is_hub_connection
from auditor.engine.rule import Rule
from auditor.model.ids import name_of, norm_id, subscription_of

rule = Rule(
    id="PEER005",
    slug="peering-remote-out-of-scope",
    title="Peering's remote VNet was not scanned",
    severity="info",
    reads=("virtualNetworks",),
    controls=(),
    flags=(
        "A peering whose remote VNet is not in the snapshot because its subscription was not scanned "
        "completely (another tenant, not selected, failed or partly read)."
    ),
    rationale=(
        "Two-sided checks (peering back, address-space sync, overlap with the remote space, gateway "
        "transit) need the remote VNet. Without it they are skipped for this peering, and the report "
        "would otherwise look cleaner than the estate is."
    ),
    remediation=(
        "Scan the remote subscription too (grant Reader on it, or add it with --subscription), or "
        "accept the gap by waiving this finding for peerings to partners you cannot read."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/create-peering-different-subscriptions",
    example=(
        "hub-to-partner points at a VNet in a subscription of another tenant that was not scanned -> reported.\n"
        "hub-to-spoke points at a VNet in a scanned subscription -> not reported."
    ),
    decisions=(
        "Reported when the remote VNet is absent and its subscription is not in the snapshot or its "
        "coverage is partial or failed. If the remote VNet was read (even from a partly read "
        "subscription) the two-sided checks run, so nothing is reported. A remote VNet absent from a "
        "completely scanned subscription is PEER002. Reported in every peering state: even a "
        "Disconnected peering's remote side is unknown. The spoke's half of a Virtual WAN hub "
        "connection (a peering named RemoteVnetToHubPeering_<guid> to the hub's managed VNet HV_<hub>_<guid>) "
        "is never reported, whether or not the hub is in the snapshot: that VNet lives in a subscription "
        "Microsoft owns, which no customer can scan, so the finding could never be fixed; the hub and its "
        "connections are read from the virtual hub resource instead "
        "(learn.microsoft.com/azure/virtual-wan/virtual-wan-faq)."
    ),
)


@rule.check
def check(snapshot):
    index = snapshot.index
    for vnet in snapshot.virtual_networks:
        for peering in vnet.peerings:
            if index.remote_vnet(peering) is not None or is_hub_connection(peering):
                continue
            remote_id = peering.remote_virtual_network_id or ""
            sub_id = subscription_of(remote_id)
            sub = index.subscriptions.get(sub_id or "")
            lists_vnets = sub is not None and sub.covers("microsoft.network/virtualnetworks")
            if snapshot.is_scanned(sub_id) and lists_vnets:
                continue  # absent from a complete scan: PEER002
            if sub is None:
                coverage, why = "not scanned", f"subscription {sub_id or '(unknown)'} was not scanned"
            elif not lists_vnets:
                coverage, why = "no VNets in the input", f"the input lists no VNets of subscription {sub.display_name or sub_id}"
            else:
                coverage = sub.status.value
                errors = "; ".join(dict.fromkeys(e.code or e.message for e in sub.errors))
                label = f"{sub.display_name} ({sub_id})" if sub.display_name and sub.display_name != sub_id else sub_id
                why = f"subscription {label} was only partly read" if coverage == "partial" else (
                    f"reading subscription {label} failed"
                )
                if errors:
                    why += f" ({errors})"
            yield rule.finding(
                resource_id=peering.id,
                related_ids=[vnet.id, remote_id],
                message=(
                    f"Peering {peering.name} from VNet {vnet.name} points at {name_of(remote_id)}, which is not "
                    f"in the snapshot: {why}; two-sided checks are skipped for this peering."
                ),
                evidence={
                    "remote_virtual_network_id": remote_id,
                    "remote_subscription_id": sub_id,
                    "remote_subscription_coverage": coverage,
                    "peering_state": peering.peering_state,
                },
                fingerprint_ids=[norm_id(peering.id)],
            )
