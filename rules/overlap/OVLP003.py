"""OVLP003 on-premises-overlap."""

from collections import defaultdict

from auditor.analysis.overlap import describe, overlap_detail
from auditor.engine.rule import Rule
from auditor.model.ids import norm_id

rule = Rule(
    id="OVLP003",
    slug="on-premises-overlap",
    title="VNet overlaps an on-premises range reached through its gateway",
    severity="high",
    reads=("virtualNetworks", "virtualNetworkGateways", "localNetworkGateways", "connections"),
    controls=("NS-9", "ALZ-NET", "ALZ-IP"),
    flags=(
        "A VNet whose address space overlaps the prefixes of a local network gateway connected to the "
        "gateway the VNet uses: its own, or the hub's gateway it uses through useRemoteGateways."
    ),
    rationale=(
        "The VNet's own range always wins over a route learned from the gateway, so hosts in the VNet "
        "cannot reach the on-premises addresses in the shared range, and on-premises traffic to that "
        "range may be sent to the wrong site. Overlaps like this usually surface only when the first "
        "workload in the range tries to talk to on-premises."
    ),
    remediation=(
        "Re-address the VNet (or the overlapping on-premises site) so the ranges are disjoint, or "
        "correct the local network gateway's address prefixes if they are wider than the site "
        "really uses."
    ),
    docs="https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#lng",
    example=(
        "hub (10.0.0.0/16) has a VPN gateway with a connection to local network gateway onprem "
        "(10.0.128.0/17) -> flagged on hub; spoke 10.0.128.0/24 using hub's gateway through "
        "useRemoteGateways -> flagged on spoke too.\n"
        "onprem uses 192.168.0.0/16 -> passes."
    ),
    decisions=(
        "A remote gateway counts only through a Connected peering with useRemoteGateways true. "
        "Connections are matched on either gateway end (virtualNetworkGateway1 or 2) and count in any "
        "connection status: the configuration is wrong before the tunnel comes up. Only VPN and "
        "ExpressRoute gateways count. Local network gateways not in the snapshot are not judged. One "
        "finding per VNet and local network gateway, listing every connection that links them."
    ),
)


def _connections_by_gateway(snapshot):
    """Gateway key -> [(connection, local network gateway)] for site connections."""
    out = defaultdict(list)
    local_gateways = snapshot.index.local_gateways
    for conn in snapshot.connections:
        lgw = local_gateways.get(norm_id(conn.local_network_gateway2_id))
        if lgw is None:
            continue
        for end in {norm_id(conn.virtual_network_gateway1_id), norm_id(conn.virtual_network_gateway2_id)} - {""}:
            out[end].append((conn, lgw))
    return out


@rule.check
def check(snapshot):
    index = snapshot.index
    by_gateway = _connections_by_gateway(snapshot)
    if not by_gateway:
        return
    for vnet in snapshot.virtual_networks:
        used = [(gw, None) for gw in index.gateways_of(vnet.key)]
        for peering in vnet.peerings:
            if peering.use_remote_gateways and peering.state == "connected":
                used += [(gw, peering) for gw in index.gateways_of(peering.remote_virtual_network_id or "")]
        links = defaultdict(list)  # local gateway key -> [(gateway, peering, connection)]
        lgws = {}
        seen = set()
        for gw, peering in used:
            for conn, lgw in by_gateway.get(gw.key, ()):
                if (gw.key, conn.key) not in seen:
                    seen.add((gw.key, conn.key))
                    links[lgw.key].append((gw, peering, conn))
                    lgws[lgw.key] = lgw
        for key in sorted(links):
            lgw = lgws[key]
            detail = overlap_detail(vnet.address_prefixes, lgw.address_prefixes)
            if not detail:
                continue
            paths = []
            for gw, peering, conn in links[key]:
                via = f"{gw.name}" if peering is None else f"{gw.name} (used through peering {peering.name} with useRemoteGateways)"
                paths.append(f"connection {conn.name} on gateway {via}")
            yield rule.finding(
                resource_id=vnet.id,
                related_ids=[lgw.id],
                message=(
                    f"VNet {vnet.name} ({', '.join(vnet.address_prefixes)}) overlaps on-premises prefixes of local "
                    f"network gateway {lgw.name}: {describe(detail)}; reached through {'; '.join(paths)}."
                ),
                evidence={
                    "address_prefixes": list(vnet.address_prefixes),
                    "local_network_gateway_prefixes": list(lgw.address_prefixes),
                    "overlapping_prefixes": [list(pair) for pair in detail],
                    "connections": [
                        {"connection_id": conn.id, "gateway_id": gw.id, "via_peering": peering.id if peering else None}
                        for gw, peering, conn in links[key]
                    ],
                },
            )
