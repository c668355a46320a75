"""topology rules: the design declared in the intents file (roles: hub, spoke, shared, isolated)."""
