"""Curated names for the demo practice: the mix a Sydney or Perth practice sees, with the
accents, macrons, hyphens and apostrophes real patient lists have. Chosen by hand so the demo
is the same on every machine (no generator at run time).

Names are grouped by heritage so first and last names go together the way they do in real
families; a share of patients get a last name from another group, as real families do too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameGroup:
    weight: int
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]


# fmt: off
NAME_GROUPS = {
    "anglo_celtic": NameGroup(
        weight=46,
        female=("Olivia", "Charlotte", "Amelia", "Isla", "Mia", "Ava", "Grace", "Willow", "Harper", "Matilda",
                "Ruby", "Evie", "Sienna", "Hannah", "Georgia", "Lily", "Sophie", "Ella", "Poppy", "Zoë",
                "Elizabeth", "Margaret", "Patricia", "Susan", "Sarah", "Rebecca", "Jessica", "Kate", "Melissa",
                "Siobhán", "Aoife", "Niamh", "Siân", "Frankie"),
        male=("Oliver", "Noah", "Jack", "William", "Leo", "Thomas", "Henry", "Charlie", "James", "Hudson",
              "Archie", "Mason", "Harvey", "Ethan", "Lachlan", "Cooper", "Hamish", "Angus", "Riley", "Robert",
              "Michael", "David", "Peter", "Stephen", "Alexander", "Daniel", "Matthew", "Andrew", "Luke", "Seán"),
        last=("Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson",
              "Thompson", "Walker", "Harris", "Ryan", "Robinson", "Kelly", "King", "Clarke", "Mitchell", "Campbell",
              "Stewart", "Murphy", "Young", "Hughes", "Edwards", "Baker", "Hall", "Wright", "Scott", "Morris",
              "O'Brien", "O'Connor", "O'Neill", "O'Sullivan", "D'Arcy", "McDonald", "MacKenzie", "McGrath",
              "Smith-Jones", "Taylor-Brown", "Ó Súilleabháin", "FitzGerald"),
    ),
    "vietnamese": NameGroup(
        weight=8,
        female=("Thảo", "Linh", "Anh", "Thu", "Lan", "Ngọc", "Hương", "Trang"),
        male=("Minh", "Huy", "Đức", "Bảo", "Khánh", "Tuấn", "Long", "Phúc"),
        last=("Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Hoàng", "Nguyen", "Tran", "Le", "Pham"),
    ),
    "chinese": NameGroup(
        weight=8,
        female=("Mei", "Jia", "Xin", "Yan", "Ling", "Michelle", "Grace", "Vivian"),
        male=("Wei", "Hao", "Jun", "Ming", "Jason", "Kevin", "Eric", "Tony"),
        last=("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Wong", "Lim", "Chan", "Zhou"),
    ),
    "korean_japanese": NameGroup(
        weight=3,
        female=("Ji-woo", "Seo-yeon", "Min-ji", "Yuki", "Sakura", "Hana"),
        male=("Min-jun", "Do-yun", "Haruto", "Kenji", "Sota"),
        last=("Kim", "Park", "Lee", "Choi", "Tanaka", "Sato", "Suzuki", "Watanabe"),
    ),
    "south_asian": NameGroup(
        weight=8,
        female=("Priya", "Ananya", "Diya", "Harpreet", "Sunita", "Kavya", "Nisha", "Shreya"),
        male=("Arjun", "Aarav", "Rohan", "Vikram", "Gurpreet", "Sanjay", "Rahul", "Karan"),
        last=("Singh", "Patel", "Sharma", "Kaur", "Gupta", "D'Souza", "de Silva", "Fernando", "Reddy", "Iyer"),
    ),
    "middle_eastern": NameGroup(
        weight=5,
        female=("Fatima", "Aisha", "Layla", "Zainab", "Noura", "Mariam"),
        male=("Omar", "Yusuf", "Karim", "Ahmed", "Hassan", "Elias"),
        last=("Haddad", "Khoury", "Ali", "Hussain", "Rahman", "Saleh", "Nasser", "El-Masri"),
    ),
    "maori_pacific": NameGroup(
        weight=6,
        female=("Aroha", "Mereana", "Ngaio", "Kahurangi", "Anahera", "Hine", "Mele", "Losana", "Tūī"),
        male=("Tāne", "Wiremu", "Rāwiri", "Hēmi", "Nikau", "Tama", "Sione", "Tevita"),
        last=("Ngata", "Te Rangi", "Pōmare", "Parata", "Walker-Ngata", "Te Whata", "Fifita", "Tupou", "Faleolo",
              "Leota"),
    ),
    "southern_european": NameGroup(
        weight=8,
        female=("Eleni", "Dimitra", "Giulia", "Francesca", "Sofía", "Lucía", "Maria", "Ana"),
        male=("Giorgos", "Nikos", "Marco", "Luca", "Mateo", "José", "João", "Antonio"),
        last=("Papadopoulos", "Georgiou", "Nikolaidis", "Rossi", "Russo", "Romano", "Costa", "Fernández",
              "García", "Pérez", "Gonçalves", "Silva"),
    ),
    "european": NameGroup(
        weight=8,
        female=("Chloé", "Renée", "Noémie", "Anaïs", "Ingrid", "Małgorzata", "Zuzana", "Hanna"),
        male=("Björn", "Søren", "Émile", "François", "Zoltán", "Jürgen", "Piotr", "Lars"),
        last=("Müller", "Schröder", "Åkesson", "Dvořák", "Nowak", "Łukasik", "Lefèvre", "van der Berg",
              "Kowalski-Reid", "Jørgensen", "Horváth", "Dubois"),
    ),
}
# fmt: on

# Share of patients whose last name comes from another group (blended families, marriage).
MIXED_FAMILY_SHARE = 0.12

# Some patients go by a shorter or different name.
PREFERRED_NAMES = {
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Margaret": ("Maggie", "Peg"),
    "Patricia": ("Trish", "Pat"),
    "Susan": ("Sue",),
    "Robert": ("Rob", "Bob"),
    "Michael": ("Mike", "Mick"),
    "Alexander": ("Alex", "Xander"),
    "William": ("Will", "Billy"),
    "Thomas": ("Tom",),
    "James": ("Jim", "Jimmy"),
    "Stephen": ("Steve",),
    "Peter": ("Pete",),
    "Lachlan": ("Lachie",),
    "Matthew": ("Matt",),
    "Małgorzata": ("Gosia",),
    "Thảo": ("Tess",),
    "Hương": ("Rose",),
    "Siobhán": ("Shiv",),
    "Rāwiri": ("Rawi",),
    "Wiremu": ("Wiri",),
    "Zoltán": ("Zoli",),
    "Francesca": ("Frankie", "Fran"),
    "Gurpreet": ("Gary",),
    "Min-jun": ("Daniel",),
}

# Relationship of a parent or guardian, and whether their first name is drawn from the female
# or male names of the child's family group.
GUARDIAN_RELATIONSHIPS = (
    ("Mother", "female"),
    ("Mother", "female"),
    ("Mother", "female"),
    ("Father", "male"),
    ("Father", "male"),
    ("Grandmother", "female"),
    ("Stepfather", "male"),
    ("Legal guardian", "female"),
    ("Aunt", "female"),
)

MEDICAL_ALERTS = (
    "Takes warfarin (anticoagulant) — check INR before any extraction.",
    "Penicillin allergy (hives). Use an alternative antibiotic.",
    "Bisphosphonates for osteoporosis since 2019 — discuss before extractions or implants.",
    "Type 2 diabetes, managed with metformin.",
    "Latex allergy.",
    "History of infective endocarditis — antibiotic cover needed before some procedures.",
    "Asthma — bring inhaler to appointments.",
    "Epilepsy, well controlled.",
    "Apixaban (blood thinner). Liaise with GP before surgery.",
    "Allergic to ibuprofen.",
    "Heart stent 2022; on clopidogrel.",
)

NOTES = (
    "Prefers morning appointments.",
    "Anxious about injections — go slowly and explain each step.",
    "Works shifts; best to call after 3 pm.",
    "Hard of hearing — face the patient when speaking.",
    "Interested in whitening once treatment is finished.",
    "Health fund: Bupa extras, top cover.",
    "Health fund: HCF.",
    "Asked about payment plans for larger treatment.",
    "Travels for work; email is more reliable than phone.",
    "Sibling is also a patient here.",
)

# The first patients of the Surry Hills clinic, so the names a tester searches for are always there.
SHOWCASE_PATIENTS = (
    {"first_name": "Zoë", "last_name": "O'Brien", "preferred_name": "Zo", "age": 36, "group": "anglo_celtic"},
    {"first_name": "Thảo", "last_name": "Nguyễn", "preferred_name": "Tess", "age": 42, "group": "vietnamese"},
    {"first_name": "Mereana", "last_name": "Te Rangi-Ngata", "preferred_name": "", "age": 29, "group": "maori_pacific"},
    {"first_name": "Tūī", "last_name": "Smith-Jones", "preferred_name": "", "age": 9, "group": "maori_pacific"},
    {"first_name": "Seán", "last_name": "D'Arcy", "preferred_name": "", "age": 58, "group": "anglo_celtic"},
    {"first_name": "Renée", "last_name": "Lefèvre-Hall", "preferred_name": "", "age": 47, "group": "european"},
    {"first_name": "Hēmi", "last_name": "Pōmare", "preferred_name": "", "age": 15, "group": "maori_pacific"},
    {"first_name": "José", "last_name": "Fernández", "preferred_name": "", "age": 63, "group": "southern_european"},
    {"first_name": "Siobhán", "last_name": "O'Sullivan", "preferred_name": "Shiv", "age": 31, "group": "anglo_celtic"},
    {"first_name": "Đức", "last_name": "Trần", "preferred_name": "", "age": 71, "group": "vietnamese"},
)
