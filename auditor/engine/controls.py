"""The controls a rule can map to: Microsoft cloud security benchmark (MCSB) network security
controls and Azure Landing Zone (ALZ) design areas.

A rule maps to a control only where the control's text plainly covers what the rule checks
(see docs/reports.md, "Controls"); a rule without such a control maps to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

_MCSB = "https://learn.microsoft.com/security/benchmark/azure/mcsb-network-security"
_ALZ = "https://learn.microsoft.com/azure/cloud-adoption-framework/ready/landing-zone/design-area"


@dataclass(frozen=True)
class Control:
    id: str
    framework: str
    title: str
    url: str

    @property
    def name(self) -> str:
        """`MCSB NS-1`, `ALZ-NET`: the id, with its framework unless the id already says it."""
        return self.id if self.id.startswith(self.framework) else f"{self.framework} {self.id}"


CONTROLS: dict[str, Control] = {c.id: c for c in (
    Control("NS-1", "MCSB", "Establish network segmentation boundaries",
            f"{_MCSB}#ns-1-establish-network-segmentation-boundaries"),
    Control("NS-3", "MCSB", "Deploy firewall at the edge of enterprise network",
            f"{_MCSB}#ns-3-deploy-firewall-at-the-edge-of-enterprise-network"),
    Control("NS-9", "MCSB", "Connect on-premises or cloud network privately",
            f"{_MCSB}#ns-9-connect-on-premises-or-cloud-network-privately"),
    Control("ALZ-NET", "ALZ", "Network topology and connectivity",
            f"{_ALZ}/network-topology-and-connectivity"),
    Control("ALZ-IP", "ALZ", "Network topology and connectivity: plan for IP addressing",
            "https://learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/"
            "plan-for-ip-addressing"),
    Control("ALZ-SEC", "ALZ", "Security", f"{_ALZ}/security"),
)}


def control(control_id: str) -> Control | None:
    return CONTROLS.get(control_id)


def control_label(control_id: str) -> str:
    """`MCSB NS-1 Establish network segmentation boundaries`; an unknown id stands for itself."""
    c = CONTROLS.get(control_id)
    return f"{c.name} {c.title}" if c else control_id
