"""A generated, seeded products catalog: the suite's non-music catalog (nothing of it is committed data).

Products have a name, alternative names (a model code and a nickname), a brand (the people role),
a description, a category, a colour, a price, units sold (popularity), a release date (freshness)
and a kind (entity type). Besides products, every brand has a page of its own (kind "brand") whose
name is the brand: a query naming the brand must still find that page when query understanding
reads the brand as a filter.
"""
from __future__ import annotations

import datetime as dt
import random

BRANDS = ("Acme", "Borealis", "Cobalt", "Dunmore", "Everline", "North Fjord", "Granite", "Helio", "Ironwood",
          "Juniper", "Kestrel", "Lumen")
CATEGORIES = {
    "lamps": ("lamp", "lantern", "sconce"), "kettles": ("kettle", "teapot"), "backpacks": ("backpack", "rucksack"),
    "headphones": ("headphones", "earbuds"), "chairs": ("chair", "stool", "recliner"), "tents": ("tent", "shelter"),
    "bicycles": ("bicycle", "roadbike", "cruiser"), "watches": ("watch", "chronograph"),
}
COLOURS = ("red", "blue", "black", "white", "green", "amber", "silver")
ADJECTIVES = ("compact", "rugged", "quiet", "classic", "nimble", "sturdy", "bright", "foldable", "vintage", "smart")
USES = ("camping", "the office", "commuting", "the kitchen", "travel", "reading", "long rides", "small flats")

PRODUCTS_FIELDS = {
    "title": ["name", "name.prefix"],
    "aliases": {"fields": ["aliases"], "weight": 2},
    "people": {"fields": ["brand"], "weight": 1.5},
    "description": {"fields": ["description"], "weight": 0.5},
    "attributes": {"category": "category", "colour": "colour", "price": {"field": "price", "kind": "number"}},
    "popularity": "sold",
    "freshness": "released",
    "entity_type": "kind",
}


def products_catalog(n: int = 300, seed: int = 11) -> list[dict]:
    """``n`` products (ids p0000 ..) and one page per brand (ids brand-<name>), the same for a given seed."""
    rng = random.Random(seed)
    docs = [_product(rng, i) for i in range(n)]
    docs += [{"id": f"brand-{b.lower().replace(' ', '-')}", "name": b, "description": f"{b} makes things for {rng.choice(USES)}.",
              "kind": "brand", "sold": 1 + rng.randrange(1000)} for b in BRANDS]
    return docs


def _product(rng: random.Random, i: int) -> dict:
    brand = rng.choice(BRANDS)
    category = rng.choice(sorted(CATEGORIES))
    noun = rng.choice(CATEGORIES[category])
    adjective, colour = rng.choice(ADJECTIVES), rng.choice(COLOURS)
    code = f"{brand.replace(' ', '')[:2].upper()}-{100 + i}"
    released = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3000))
    return {
        "id": f"p{i:04d}",
        "name": f"{brand} {adjective.title()} {noun.title()} {code}",
        "aliases": [code, f"{adjective} {noun} {i}"],
        "brand": brand,
        "description": f"A {colour} {adjective} {noun} for {rng.choice(USES)}.",
        "category": category,
        "colour": colour,
        "price": round(rng.uniform(9, 900), 2),
        "sold": rng.randrange(0, 5000),  # some sold nothing: zero popularity stays out of the rank_feature
        "released": released.isoformat(),
        "kind": "product",
    }
