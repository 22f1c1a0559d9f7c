"""Titles: movie titles in the Netflix file's style (some with commas and accented letters),
using their first genre's words."""

from __future__ import annotations

import numpy as np

from movierec.generate.genres import GENRES
from movierec.generate.shapes import _S_TITLES, _rng

_ADJECTIVES = (
    "Silent",
    "Broken",
    "Golden",
    "Last",
    "Hidden",
    "Wild",
    "Dark",
    "Lost",
    "Crimson",
    "Frozen",
    "Electric",
    "Little",
    "Endless",
    "Secret",
    "Bitter",
    "Sweet",
    "Restless",
    "Burning",
    "Quiet",
    "Savage",
    "Lonely",
    "Eternal",
    "Midnight",
    "Distant",
    "Hollow",
    "Perfect",
    "Reckless",
    "Blue",
    "Final",
    "Forgotten",
    "Deadly",
    "Strange",
    "Velvet",
    "Iron",
    "Silver",
    "Scarlet",
    "Tender",
    "Wicked",
    "Brave",
    "Fallen",
    "Invisible",
    "Northern",
    "Southern",
    "Paper",
    "Glass",
    "Stolen",
    "Sleeping",
    "Dancing",
    "Haunted",
    "Lucky",
    "Naked",
    "Crazy",
    "Royal",
    "Early",
    "Long",
    "Empty",
    "Rising",
    "Shining",
    "Falling",
    "Painted",
)
_NOUNS = (
    "River",
    "Garden",
    "Road",
    "Night",
    "Summer",
    "Heart",
    "City",
    "Storm",
    "Game",
    "Kingdom",
    "Island",
    "Mirror",
    "Promise",
    "Highway",
    "Shadow",
    "Empire",
    "Letter",
    "Train",
    "Winter",
    "Station",
    "Harbor",
    "Dream",
    "Circus",
    "Frontier",
    "Orchard",
    "Border",
    "Symphony",
    "Secret",
    "Murder",
    "Wedding",
    "Detective",
    "Soldier",
    "Stranger",
    "Horizon",
    "Castle",
    "Voyage",
    "Angel",
    "Hunter",
    "Witness",
    "Valley",
    "Desert",
    "Ocean",
    "Forest",
    "Mountain",
    "Bridge",
    "Tower",
    "Prince",
    "Queen",
    "Thief",
    "Ghost",
    "Machine",
    "Planet",
    "Sister",
    "Brother",
    "Father",
    "Daughter",
    "Son",
    "Lover",
    "Rebel",
    "Outlaw",
    "Saint",
    "Sinner",
    "Kiss",
    "Song",
    "Dance",
    "Sky",
    "Moon",
    "Star",
    "Sun",
    "Rain",
    "Fire",
    "Wind",
    "Journey",
    "Escape",
    "Revenge",
    "Legacy",
    "Paradise",
    "Hotel",
    "Diary",
)
_NAMES = (
    "Mary",
    "Jack",
    "Eddie",
    "Molly",
    "Harry",
    "Lucy",
    "Frank",
    "Rosa",
    "Sam",
    "Charlie",
    "Annie",
    "Victor",
    "Grace",
    "Max",
    "Tom",
    "Nina",
    "Oscar",
    "Ruby",
    "Leo",
    "Ellen",
    "Walter",
    "Dolores",
    "Otto",
    "Iris",
    "Hugo",
    "Stella",
    "Felix",
    "Billy",
    "Maggie",
    "Joe",
)
_NAMES_ACCENTED = (
    "Amélie",
    "José",
    "Zoë",
    "François",
    "Björn",
    "Chloé",
    "Renée",
    "Agnès",
    "Søren",
    "Hélène",
    "Jürgen",
    "Inês",
)
_SURNAMES = (
    "Smith",
    "Brown",
    "Jones",
    "Dubois",
    "Kowalski",
    "Moreau",
    "Russo",
    "Keller",
    "O'Brien",
    "Larsen",
    "Fischer",
    "Wilson",
    "Baker",
    "Costa",
    "Young",
    "Miller",
    "Parker",
    "Hayes",
)
_SURNAMES_ACCENTED = ("Müller", "García", "Núñez", "Björk", "Peña")
_ABSTRACT = (
    "Love",
    "Death",
    "Taxes",
    "Money",
    "Honor",
    "Blood",
    "Glory",
    "Sex",
    "Lies",
    "Videotape",
    "Guns",
    "Roses",
    "Dust",
    "Fire",
    "Ice",
    "Sugar",
    "Spice",
    "Crime",
    "Punishment",
    "Pride",
    "Prejudice",
    "Sense",
    "Sensibility",
    "Bread",
    "Wine",
    "Faith",
    "Fear",
    "Hope",
    "Rage",
)
_PLACES = (
    "Paris",
    "Brooklyn",
    "Texas",
    "Chicago",
    "Tokyo",
    "Vienna",
    "Havana",
    "Cairo",
    "Berlin",
    "Venice",
    "Alaska",
    "Memphis",
    "Dublin",
    "Lisbon",
    "Manhattan",
    "Mars",
    "the Moon",
    "Nowhere",
    "Rome",
    "Hong Kong",
    "Bombay",
    "the West",
    "London",
    "Harlem",
    "Nevada",
    "Sicily",
)
_PLACES_ACCENTED = ("Málaga", "Zürich", "São Paulo", "Montréal", "Köln", "Bogotá", "Cádiz", "Reykjavík")
_GREETINGS = ("Goodbye", "Hello", "Good Night", "Farewell", "Welcome Home", "Run", "Wake Up", "Hold On")
_SUFFIXES = (
    ": Part II",
    ": Part III",
    ": Season 1",
    ": Season 2",
    ": Season 3",
    ": The Return",
    ": Director's Cut",
    ": Vol. 1",
    ": Vol. 2",
    " 2",
    ": Special Edition",
    ": The Movie",
)
# Title patterns and how often each is used; 2 and 3 have commas.
_TITLE_PATTERNS = (
    ("the", 0.24),
    ("of_the", 0.14),
    ("owner", 0.12),
    ("abstract", 0.03),
    ("greeting", 0.02),
    ("in_place", 0.12),
    ("and_the", 0.10),
    ("abstract_place", 0.07),
    ("place_colon", 0.06),
    ("for_name", 0.10),
)
_ACCENTED_SHARE = 0.10  # chance that a name or place is one with accented letters

# Genre-specific words (adjectives, nouns): a title mostly uses its movie's first genre's words,
# so that a person can guess the genre from the title.
_GENRE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Drama": (
        ("Quiet", "Bitter", "Broken", "Fragile", "Distant", "Long", "Tender", "Empty"),
        ("Father", "Daughter", "Silence", "Inheritance", "Letter", "Promise", "Family", "Winter"),
    ),
    "Comedy": (
        ("Crazy", "Silly", "Awkward", "Wacky", "Goofy", "Nutty", "Lucky", "Clumsy"),
        ("Roommates", "Vacation", "Party", "Blunder", "Prank", "Neighbours", "Bachelor", "Weekend"),
    ),
    "Romance": (
        ("Sweet", "Tender", "Forever", "Secret", "Summer", "Lovesick", "Blushing", "Starry"),
        ("Kiss", "Heart", "Love Letter", "Wedding", "Valentine", "Sweetheart", "Honeymoon", "Bride"),
    ),
    "Musical": (
        ("Singing", "Dancing", "Jazzy", "Golden", "Swinging", "Rhythmic", "Glittering", "Merry"),
        ("Melody", "Song", "Chorus", "Ballroom", "Broadway", "Serenade", "Rhapsody", "Tango"),
    ),
    "Stand-Up": (
        ("Unfiltered", "Uncensored", "Live", "Raw", "Unplugged", "Loud", "Honest", "Awkward"),
        ("Comedy Hour", "Punchline", "Open Mic", "Roast", "Monologue", "Mic Drop", "Set", "Encore"),
    ),
    "Kids": (
        ("Magic", "Happy", "Little", "Silly", "Tiny", "Fluffy", "Giggling", "Bouncy"),
        ("Puppy", "Pony", "Teddy Bear", "Bunny", "Treehouse", "Kitten", "Balloon", "Lollipop"),
    ),
    "Anime": (
        ("Spirited", "Celestial", "Neon", "Shining", "Eternal", "Astral", "Thundering", "Sacred"),
        ("Samurai", "Ronin", "Sakura", "Shogun", "Mecha", "Katana", "Kaiju", "Shrine"),
    ),
    "Fantasy": (
        ("Enchanted", "Mystic", "Elven", "Cursed", "Ancient", "Fabled", "Sorcerous", "Gilded"),
        ("Sorcerer", "Dragon", "Wizard", "Sword", "Realm", "Crown", "Prophecy", "Unicorn"),
    ),
    "Action": (
        ("Lethal", "Maximum", "Explosive", "Armed", "Rogue", "Extreme", "Fearless", "Bulletproof"),
        ("Strike", "Force", "Mission", "Showdown", "Commando", "Target", "Assault", "Vengeance"),
    ),
    "Adventure": (
        ("Lost", "Great", "Forbidden", "Hidden", "Uncharted", "Golden", "Perilous", "Savage"),
        ("Treasure", "Expedition", "Jungle", "Island", "Quest", "Voyage", "Temple", "Map"),
    ),
    "Sci-Fi": (
        ("Galactic", "Quantum", "Robotic", "Cosmic", "Orbital", "Cyber", "Alien", "Interstellar"),
        ("Planet", "Android", "Starship", "Galaxy", "Nebula", "Clone", "Colony", "Time Machine"),
    ),
    "War": (
        ("Fallen", "Iron", "Brave", "Bloody", "Burning", "Last", "Valiant", "Frozen"),
        ("Battalion", "Front", "Trenches", "Regiment", "Platoon", "Battle", "Sergeant", "Bunker"),
    ),
    "Thriller": (
        ("Deadly", "Twisted", "Fatal", "Cold", "Silent", "Paranoid", "Dangerous", "Sleepless"),
        ("Conspiracy", "Witness", "Trap", "Obsession", "Stranger", "Pursuit", "Deception", "Alibi"),
    ),
    "Horror": (
        ("Haunted", "Bloody", "Cursed", "Undead", "Screaming", "Rotting", "Wicked", "Hollow"),
        ("Ghost", "Nightmare", "Crypt", "Zombie", "Scream", "Witch", "Graveyard", "Chainsaw"),
    ),
    "Crime": (
        ("Dirty", "Crooked", "Stolen", "Smoking", "Bent", "Ruthless", "Corrupt", "Hard-Boiled"),
        ("Heist", "Mobster", "Gangster", "Racket", "Cartel", "Getaway", "Hustle", "Godfather"),
    ),
    "Mystery": (
        ("Missing", "Curious", "Strange", "Veiled", "Vanishing", "Locked", "Midnight", "Peculiar"),
        ("Detective", "Clue", "Riddle", "Enigma", "Manor", "Disappearance", "Key", "Puzzle"),
    ),
    "Documentary": (
        ("True", "Real", "Inside", "Untold", "Wild", "Changing", "Vanishing", "Modern"),
        ("Story", "Truth", "Wildlife", "Industry", "Voices", "Archive", "Ocean Life", "Climate"),
    ),
    "Western": (
        ("Dusty", "Lonesome", "Wild", "Outlaw", "Sunburnt", "Rawhide", "Restless", "Lawless"),
        ("Gunslinger", "Sheriff", "Saloon", "Ranch", "Stagecoach", "Canyon", "Rustler", "Frontier"),
    ),
}
_GENRE_WORD_SHARE = 0.85  # chance that a title's adjective or noun comes from its genre's words


def _plural(noun: str) -> str:
    """English plural of the title nouns: Party -> Parties, Witch -> Witches, Key -> Keys."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def _title(rng: np.random.Generator, genre: str | None = None) -> str:
    """One made-up title from the word lists (some with commas, some with accents), with the
    adjective and noun mostly from `genre`'s words when given."""

    def pick(words: tuple[str, ...]) -> str:
        return words[int(rng.integers(len(words)))]

    genre_adjectives, genre_nouns = _GENRE_WORDS[genre] if genre else (_ADJECTIVES, _NOUNS)

    def adjective() -> str:
        return pick(genre_adjectives if rng.random() < _GENRE_WORD_SHARE else _ADJECTIVES)

    def noun_() -> str:
        return pick(genre_nouns if rng.random() < _GENRE_WORD_SHARE else _NOUNS)

    def name() -> str:
        return pick(_NAMES_ACCENTED if rng.random() < _ACCENTED_SHARE else _NAMES)

    def surname() -> str:
        return pick(_SURNAMES_ACCENTED if rng.random() < _ACCENTED_SHARE else _SURNAMES)

    def place() -> str:
        return pick(_PLACES_ACCENTED if rng.random() < _ACCENTED_SHARE else _PLACES)

    kind = _TITLE_PATTERNS[int(np.searchsorted(_PATTERN_CUM, rng.random(), side="right"))][0]
    adj, noun = adjective(), noun_()
    if genre == "Stand-Up" and kind != "abstract":  # a comedian's show
        title = f"{name()} {surname()}: {adj}" + (f" in {place()}" if rng.random() < 0.5 else f" {noun}")
    elif kind == "the":
        title = f"The {adj} {noun}" + (f" of {place()}" if rng.random() < 0.75 else "")
    elif kind == "of_the":
        first = noun_()
        title = f"{first if first != noun else pick(_NOUNS)} of the {adj} {noun}"
    elif kind == "owner":
        title = f"{name()}'s {adj} {noun}"
    elif kind == "abstract":
        title = f"{pick(_ABSTRACT)}, {pick(_ABSTRACT)} and {pick(_ABSTRACT)}"
    elif kind == "greeting":
        title = f"{pick(_GREETINGS)}, {name()} {surname()}"
    elif kind == "in_place":
        title = f"{adj} {_plural(noun)} in {place()}"
    elif kind == "and_the":
        title = f"{name()} and the {adj} {noun}"
    elif kind == "abstract_place":
        title = f"{pick(_ABSTRACT)} in the {noun} of {place()}"
    elif kind == "place_colon":
        title = f"{place()}: {adj} {noun}"
    else:
        title = f"A {adj} {noun} for {name()}"
    if rng.random() < 0.08:
        title += pick(_SUFFIXES)
    return title


_PATTERN_CUM = np.cumsum([w for _, w in _TITLE_PATTERNS]) / sum(w for _, w in _TITLE_PATTERNS)


def movie_titles(
    n_movies: int, seed: int, primary_genres: list[int] | None = None
) -> list[tuple[int, int | None, str]]:
    """(movie_id, year or None, title) for movies 1..n_movies: years 1915..2005 skewed to
    recent ones, about 0.5% unknown (NULL), titles in the words of each movie's primary genre
    (index into GENRES) when given; the first title has a comma, an accent and no year so that
    even the smallest sample shows every quirk of the real file."""
    rng = _rng(seed, _S_TITLES)
    age = np.minimum(rng.gamma(1.3, 9.0, size=n_movies), 2005 - 1915)
    years = (2005 - np.floor(age)).astype(int)
    null = rng.random(n_movies) < 0.005
    rows: list[tuple[int, int | None, str]] = []
    for i in range(n_movies):
        genre = GENRES[primary_genres[i]] if primary_genres is not None else None
        rows.append((i + 1, None if null[i] else int(years[i]), _title(rng, genre)))
    rows[0] = (1, None, "Amélie's Garden, Part II")
    return rows
