"""Query understanding: a gazetteer of the index's own values and interpretations of a query."""
from .gazetteer import ROLES, Entry, Gazetteer, derived_aliases, role_fields
from .interpret import Interpretation, Readings, Slot, interpret, understand

__all__ = ["ROLES", "Entry", "Gazetteer", "Interpretation", "Readings", "Slot", "derived_aliases", "interpret", "role_fields",
           "understand"]
