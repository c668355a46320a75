"""Analysis helpers the rules share, one module per concept: addresses, overlap, NSGs, routing, gateways, wording."""
