"""The pure model: customers, hostnames, settings, names. No Pulumi, no network (a test enforces it)."""
