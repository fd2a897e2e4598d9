"""Word lists for the synthetic sample catalog. All names are made up.

Some words are deliberately shared between lists (``Love`` and ``Home`` are titles, title words
and parts of band names; ``Soul`` and ``Blues`` are genres and band-name words) so the sample
has the ambiguity a music search must handle. A few words are accented, Cyrillic or Japanese.
"""

GENRES = (
    "pop", "rock", "hip hop", "electronic", "r&b", "country", "indie", "latin", "jazz",
    "metal", "folk", "soul", "reggae", "blues", "punk", "funk", "classical", "k-pop",
)
# Rough share of artists per genre, same order as GENRES: pop and rock dominate.
GENRE_WEIGHTS = (18, 16, 14, 9, 8, 7, 6, 5, 4, 4, 3, 3, 2, 2, 2, 2, 1, 2)
# Chance that a song of an artist of this main genre is explicit (default 0.05).
EXPLICIT_RATE = {"hip hop": 0.55, "metal": 0.3, "punk": 0.3, "r&b": 0.2, "electronic": 0.1}

# One-word (or one-phrase) titles that many songs share.
SHARED_TITLES = (
    "Love", "Home", "Hold On", "Angel", "Stay", "Crazy", "Happy", "Fire", "Tonight", "Forever",
    "Dreams", "Runaway", "Paradise", "Gold", "Alive", "Heartbeat", "Blue", "Sunshine", "Closer",
    "Soul", "Corazón", "Déjà Vu", "Ночь", "花火",
)
ADJECTIVES = (
    "Velvet", "Electric", "Midnight", "Golden", "Silver", "Neon", "Wild", "Broken", "Crimson",
    "Mötley", "Lonely", "Cosmic", "Restless", "Sweet", "Holy", "Paper", "Blue", "Secret",
    "Burning", "Little", "Summer", "Dangerous",
)
NOUNS = (
    "Heart", "Fire", "Rain", "Night", "River", "Road", "Summer", "Dream", "Train", "Sky",
    "Light", "Rose", "Dance", "Money", "City", "Ocean", "Moon", "Sun", "Window", "Radio",
    "Home", "Love", "Soul", "Highway", "Garden", "Thunder", "Mirror", "Diamond", "Letter",
)
PLACES = (
    "Paris", "Memphis", "Tokyo", "Harlem", "Brooklyn", "Havana", "Berlin", "Lagos", "Seoul",
    "Nashville", "Rio", "São Paulo", "Zürich", "Kingston", "Москва", "New Orleans",
)
VERBS = (
    "Hold", "Love", "Call", "Take", "Kiss", "Save", "Leave", "Need", "Miss", "Want", "Follow",
    "Forgive", "Tell", "Find", "Show",
)
ENDINGS = ("Tonight", "Now", "Again", "Forever", "Slowly", "Tomorrow", "Baby", "Home", "Softly")
VERSIONS = (" - Live", " - Remastered", " - Acoustic", " - Radio Edit", " (Remix)")

FIRST_NAMES = (
    "Amélie", "Inés", "Zoë", "Björn", "Renée", "José", "Chloé", "Søren", "Noël", "Łucja",
    "Mikaela", "Jonah", "Ruby", "Marcus", "Leon", "Ava", "Kai", "Nina", "Omar", "Tessa", "Milo",
    "Jade", "Ezra", "Lola", "Hugo", "Iris", "Felix", "Rosa", "Theo", "Maya", "Dante", "Cleo",
    "Yuki", "Darius", "Keisha", "Mateo", "Priya", "Sasha", "Tobias", "Ximena",
)
LAST_NAMES = (
    "Rivers", "Stone", "Vega", "Hart", "Castillo", "Nakamura", "Okafor", "Lindqvist", "Moreau",
    "Kowalski", "Brooks", "Fontaine", "Ivanova", "Reyes", "Walker", "Bloom", "Sterling",
    "Delacroix", "Müller", "Søndergaard", "Novak", "Park", "Silva", "Ferreira", "Haddad",
    "Dubois", "Ramírez", "Love", "Holiday", "King",
)
BAND_NOUNS = (
    "Hearts", "Wolves", "Echoes", "Rebels", "Kings", "Strangers", "Shadows", "Lovers", "Tigers",
    "Ghosts", "Satellites", "Roses", "Machines", "Saints", "Drifters", "Crows", "Sisters",
)
COLLECTIVES = (
    "Machine", "Cartel", "Collective", "Club", "Society", "Orchestra", "Brigade", "Arcade", "Parade",
)
# Band-name words that are also titles or genres.
AMBIGUOUS_WORDS = (
    "Love", "Home", "Fire", "Angel", "Soul", "Jazz", "Blues", "Country", "Metal", "Gold", "Paradise",
)
FOREIGN_BANDS = ("花火", "夜明け", "Звезда", "Ночные Огни", "Kōen", "Señales")
