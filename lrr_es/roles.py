"""Field roles: which of a catalog's fields plays which part in retrieval (pure).

A catalog names, per index, its **text roles** (``title`` the primary name, ``aliases``,
``people`` such as artists or brands, ``description``; each a list of fields with a weight),
its **attributes** for query understanding (any keyword or numeric field: genre, sport, country,
brand, category, year, ...), and optionally ``popularity``, ``freshness`` (a date) and
``entity_type``. Only the title is required.

Two spellings are accepted in the configuration. The domain-neutral one names exactly the fields
it uses (anything not named is left out). The music one (``artist``, ``genre``, ``main_genre``,
``decade``, ``year``, ``mood``, ``added_at``), the spelling of earlier versions, keeps its music
defaults for every key it leaves out and maps onto the same roles: ``artist`` is the people role,
``genre`` (with ``main_genre``), ``decade``, ``year`` and ``mood`` are attributes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ConfigError

TEXT_ROLES = ("title", "aliases", "people", "description")
TEXT_WEIGHTS = {"title": 3.0, "aliases": 2.0, "people": 2.0, "description": 0.5}
ATTRIBUTE_KINDS = ("keyword", "number")
MUSIC_KEYS = ("artist", "genre", "main_genre", "decade", "year", "mood", "added_at")
NEUTRAL_KEYS = ("aliases", "people", "description", "weights", "attributes", "freshness")
SHARED_KEYS = ("title", "popularity", "entity_type")
RESERVED_ROLES = ("people", "artist", "entity_type")  # slot roles query understanding gives other sources
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Attribute:
    """A structured attribute: query understanding reads its values as the slot ``name``.

    ``fields`` hold the values (the first is the attribute's own; further ones, such as music's
    ``main_genre`` beside ``genre``, are matched too); ``kind`` is "keyword" or "number".
    """

    name: str
    fields: tuple[str, ...]
    kind: str = "keyword"

    @property
    def field(self) -> str:
        return self.fields[0]


MUSIC_ATTRIBUTES = (Attribute("genre", ("genre", "main_genre")), Attribute("decade", ("decade",)),
                    Attribute("year", ("year",), "number"))


@dataclass(frozen=True)
class FieldMap:
    """Which of the app's fields plays which role (see the module docstring).

    ``music`` is True for a map written in the music spelling (or not written at all): its index
    template keeps the music fields of earlier versions, so upgrading does not reindex.
    """

    title: tuple[str, ...] = ("title",)
    people: tuple[str, ...] = ("artist",)
    aliases: tuple[str, ...] = ()
    description: tuple[str, ...] = ()
    weights: tuple[tuple[str, float], ...] = tuple(TEXT_WEIGHTS.items())
    attributes: tuple[Attribute, ...] = MUSIC_ATTRIBUTES
    popularity: str | None = "popularity"
    added_at: str | None = "added_at"  # freshness: when the entity was added or released
    entity_type: str | None = "entity_type"
    music: bool = True

    @property
    def artist(self) -> tuple[str, ...]:
        """The people role under its music name (artists)."""
        return self.people

    @property
    def people_role(self) -> str:
        """The slot name of the people role in query understanding: "artist" in a music map."""
        return "artist" if self.music else "people"

    def weight(self, role: str) -> float:
        """The weight of text role ``role`` in text matching."""
        return dict(self.weights).get(role, TEXT_WEIGHTS[role])

    def text_roles(self) -> tuple[tuple[str, tuple[str, ...], float], ...]:
        """(role, fields, weight) of every text role that names fields, title first."""
        return tuple((role, getattr(self, role), self.weight(role)) for role in TEXT_ROLES if getattr(self, role))

    def text_fields(self) -> tuple[str, ...]:
        """Every field of every text role (sub-fields such as ``title.prefix`` included)."""
        return tuple(f for _, fields, _ in self.text_roles() for f in fields)

    def attribute(self, name: str) -> Attribute | None:
        """The attribute whose slot is ``name``, or None."""
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def category(self) -> str | None:
        """The field of the first keyword attribute (music: genre): what an entity is about, used for
        cold-start memory keys, the explore strategy and the semantic model's document text."""
        return next((a.field for a in self.attributes if a.kind == "keyword"), None)

    @property
    def genre(self) -> str | None:
        attribute = self.attribute("genre")
        return attribute.field if attribute else None

    def keyword_field(self, field: str) -> str:
        """Where ``field``'s whole values can be matched exactly: its ``keyword`` sub-field when it is a
        text-role field (the catalog template gives every text-role field one), else itself."""
        text = {f for _, fields, _ in self.text_roles() for f in fields if "." not in f}
        return f"{field}.keyword" if field in text else field

    def slot_fields(self) -> dict[str, tuple[str, ...]]:
        """The slot roles of query understanding with the keyword fields their values come from:
        every attribute, the entity type and the people role, in that order."""
        out = {a.name: tuple(self.keyword_field(f) if a.kind == "keyword" else f for f in a.fields)
               for a in self.attributes}
        if self.entity_type:
            out["entity_type"] = (self.entity_type,)
        people = next((f for f in self.people if "." not in f), None)
        if people or self.people:
            out[self.people_role] = (self.keyword_field(people) if people else self.people[0],)
        return out

    def role_fields(self) -> tuple[str, ...]:
        """Every top-level field the map names (sub-fields such as ``title.prefix`` excluded)."""
        named = [*self.text_fields(), *(f for a in self.attributes for f in a.fields),
                 self.popularity, self.added_at, self.entity_type]
        return tuple(dict.fromkeys(f for f in named if f and "." not in f))


def field_map(where: str, raw: Mapping[str, Any]) -> FieldMap:
    """The FieldMap written in ``raw`` (either spelling); ConfigError names the bad key and value."""
    known = (*SHARED_KEYS, *MUSIC_KEYS, *NEUTRAL_KEYS)
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(map(str, unknown))} "
                          f"(known: {', '.join(sorted(known))})")
    music = [k for k in raw if k in MUSIC_KEYS]
    neutral = [k for k in raw if k in NEUTRAL_KEYS]
    if music and neutral:
        raise ConfigError(f"{where}: {', '.join(music)} belong(s) to the music spelling and {', '.join(neutral)} to "
                          f"the domain-neutral one; use one (artist -> people, genre/decade/year/mood -> attributes, "
                          f"added_at -> freshness)")
    return _neutral_map(where, raw) if neutral else _music_map(where, raw)


def _music_map(where: str, raw: Mapping[str, Any]) -> FieldMap:
    values: dict[str, Any] = {"music": True}
    if "title" in raw:
        values["title"] = _required_fields(f"{where}.title", raw["title"])
    if "artist" in raw:
        values["people"] = _optional_fields(f"{where}.artist", raw["artist"])
    for key in ("popularity", "added_at", "entity_type"):
        if key in raw:
            values[key] = _field_or_none(f"{where}.{key}", raw[key])
    single = {k: _field_or_none(f"{where}.{k}", raw.get(k, default))
              for k, default in (("genre", "genre"), ("main_genre", "main_genre"), ("decade", "decade"),
                                 ("year", "year"), ("mood", None))}
    attributes = []
    if single["genre"] or single["main_genre"]:
        genre_fields = tuple(f for f in (single["genre"], single["main_genre"]) if f)
        attributes.append(Attribute("genre", genre_fields))
    if single["decade"]:
        attributes.append(Attribute("decade", (single["decade"],)))
    if single["year"]:
        attributes.append(Attribute("year", (single["year"],), "number"))
    if single["mood"]:
        attributes.append(Attribute("mood", (single["mood"],)))
    return FieldMap(attributes=tuple(attributes), **values)


def _neutral_map(where: str, raw: Mapping[str, Any]) -> FieldMap:
    text: dict[str, tuple[str, ...]] = {}
    weights = dict(TEXT_WEIGHTS)
    for role in TEXT_ROLES:
        value = raw.get(role, ["title"] if role == "title" else None)
        if isinstance(value, Mapping):
            _only(f"{where}.{role}", value, ("fields", "weight"))
            if "weight" in value:
                weights[role] = _weight(f"{where}.{role}.weight", value["weight"])
            value = value.get("fields")
        check = _required_fields if role == "title" else _optional_fields
        text[role] = check(f"{where}.{role}", value)
    attributes = _attributes(f"{where}.attributes", raw.get("attributes"))
    return FieldMap(**text, weights=tuple(weights.items()), attributes=attributes,
                    popularity=_field_or_none(f"{where}.popularity", raw.get("popularity")),
                    added_at=_field_or_none(f"{where}.freshness", raw.get("freshness")),
                    entity_type=_field_or_none(f"{where}.entity_type", raw.get("entity_type")), music=False)


def _attributes(where: str, raw: Any) -> tuple[Attribute, ...]:
    """``[sport, country]`` (keyword attributes named like their fields) or ``{slot: field}`` /
    ``{slot: {field: F | fields: [F, ...], kind: keyword|number}}``."""
    if raw is None:
        return ()
    if isinstance(raw, (list, tuple)):
        raw = {name: name for name in raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a list of field names or a mapping of slot name to field, got {raw!r:.80}")
    out = []
    for name, spec in raw.items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not _ROLE_NAME.match(name) or name in RESERVED_ROLES:
            raise ConfigError(f"{where}: {name!r} is not a usable slot name (lowercase letters, digits and _, "
                              f"not one of {', '.join(RESERVED_ROLES)})")
        kind = "keyword"
        if isinstance(spec, Mapping):
            _only(at, spec, ("field", "fields", "kind"))
            kind = spec.get("kind", "keyword")
            if kind not in ATTRIBUTE_KINDS:
                raise ConfigError(f"{at}.kind must be one of {', '.join(ATTRIBUTE_KINDS)}, got {kind!r:.80}")
            spec = spec.get("fields", spec.get("field", name))
        out.append(Attribute(name, _required_fields(at, spec), kind))
    return tuple(out)


def _required_fields(where: str, value: Any) -> tuple[str, ...]:
    fields = _optional_fields(where, value)
    if not fields:
        raise ConfigError(f"{where} must name one or more fields, got {value!r:.80}")
    return fields


def _optional_fields(where: str, value: Any) -> tuple[str, ...]:
    """A field name or a list of them; null or an empty list: the role is left out."""
    if value is None:
        return ()
    fields = (value,) if isinstance(value, str) else value
    if not isinstance(fields, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in fields):
        raise ConfigError(f"{where} must name one or more fields (or be null), got {value!r:.80}")
    return tuple(fields)


def _field_or_none(where: str, value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ConfigError(f"{where} must be a field name or null, got {value!r:.80}")
    return value


def _weight(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
        raise ConfigError(f"{where} must be a number in (0, 100], got {value!r:.80}")
    return float(value)


def _only(where: str, raw: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(map(str, set(raw) - set(known)))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)} (known: {', '.join(known)})")
