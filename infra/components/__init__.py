"""Pulumi components: one resource class per file, each declaring its children with parent=self."""
