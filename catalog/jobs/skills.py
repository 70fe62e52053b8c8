"""The skills dictionary: canonical skill names, their aliases (English and Japanese), and a fast,
deterministic extractor used at job ingest, by the resume heuristic parser and the scoring prefilter.

Matching rules (why they are what they are):
- Text is NFKC-normalized first, so full-width ＰＹＴＨＯＮ and half-width ｶﾀｶﾅ match their usual forms.
- Latin aliases match case-insensitively on ASCII word boundaries: "Java" is not found in
  "JavaScript", "SQL" not in "PostgreSQL", "C" not in "C++"; a Japanese character next to a Latin
  alias counts as a boundary ("Python経験" finds Python).
- A few aliases that are everyday English words ("Go", "React", "Swift", "Excel", ...) match only
  with their capitalization, and "Go"/"R"/"C" carry extra guards ("go to", "R&D", "C-level").
- CJK aliases match as substrings (Japanese has no spaces between words).
- Where two matches overlap the longer one wins ("React Native" over "React", "Node.js" over "JS").
- The one-letter and symbol names (R, C, C#, C++, Go) are everyday letters too ("TOEIC L&R",
  "John R. Smith", "Plan C"): they count only in skill context, i.e. when their sentence or line
  names another technical skill or says it is about skills (skills, languages, experience,
  developer, スキル, 言語, 経験, 開発, ...).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

SkillCategory = Literal["programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"]
CATEGORIES: tuple[SkillCategory, ...] = (
    "programming_languages",
    "frameworks_libraries",
    "tools_platforms",
    "soft_skills",
)

# canonical name -> aliases. The canonical name is itself an alias. An alias written in the
# `_CASE_SENSITIVE` set matches only with that exact capitalization.
_PROGRAMMING_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Python": ("Python3", "Python 3", "パイソン"),
    "JavaScript": ("JS", "ECMAScript", "ES6", "ES2015", "ジャバスクリプト"),
    "TypeScript": ("TS", "タイプスクリプト"),
    "Java": ("ジャバ", "Java SE", "Java EE"),
    "Kotlin": ("コトリン",),
    "Swift": ("SwiftUI", "スウィフト"),
    "Go": ("Golang", "Go言語", "Go lang"),
    "Rust": ("Rust言語",),
    "C": ("C言語", "ANSI C"),
    "C++": ("CPP",),
    "C#": ("CSharp", "C Sharp", "C＃"),
    "Ruby": ("ルビー",),
    "PHP": ("PHP8", "PHP7"),
    "Scala": (),
    "R": ("R言語", "R language", "RStudio"),
    "SQL": ("T-SQL", "PL/SQL", "SQL言語"),
    "Dart": (),
    "Perl": (),
    "Haskell": (),
    "Elixir": (),
    "Objective-C": ("ObjC", "Objective C"),
    "Shell": ("Bash", "shell script", "shell scripting", "シェルスクリプト", "zsh"),
    "HTML": ("HTML5",),
    "CSS": ("CSS3", "Sass", "SCSS"),
    "MATLAB": (),
    "Lua": (),
    "VBA": ("Excel VBA", "Visual Basic"),
    "COBOL": (),
}
_FRAMEWORKS_LIBRARIES: dict[str, tuple[str, ...]] = {
    "React": ("React.js", "ReactJS", "リアクト"),
    "React Native": ("ReactNative",),
    "Vue.js": ("Vue", "VueJS", "Vue3", "Vue 3"),
    "Nuxt.js": ("Nuxt", "NuxtJS"),
    "Angular": ("AngularJS",),
    "Next.js": ("NextJS",),
    "Svelte": ("SvelteKit",),
    "Node.js": ("NodeJS", "Node"),
    "Express": ("Express.js", "ExpressJS"),
    "Django": ("Django REST framework", "DRF"),
    "Flask": (),
    "FastAPI": (),
    "Ruby on Rails": ("Rails", "RoR"),
    "Laravel": (),
    "Spring": ("Spring Boot", "SpringBoot", "Spring Framework"),
    ".NET": ("ASP.NET", "dotnet", ".NET Core"),
    "Flutter": (),
    "jQuery": (),
    "Bootstrap": (),
    "Tailwind CSS": ("Tailwind", "TailwindCSS"),
    "Redux": (),
    "TensorFlow": ("Tensorflow", "TF2"),
    "PyTorch": (),
    "Keras": (),
    "scikit-learn": ("sklearn", "scikit learn"),
    "pandas": (),
    "NumPy": (),
    "Apache Spark": ("Spark", "PySpark"),
    "Hadoop": (),
    "GraphQL": (),
    "OpenCV": (),
    "LangChain": (),
    "Hugging Face": ("HuggingFace", "Hugging Face Transformers"),
    "Selenium": (),
    "Jest": (),
    "pytest": (),
    "Unity": ("Unity3D",),
    "Unreal Engine": ("Unreal", "UE5", "UE4"),
}
_TOOLS_PLATFORMS: dict[str, tuple[str, ...]] = {
    "Git": ("ギット",),
    "GitHub": ("GitHub Actions",),
    "GitLab": (),
    "Docker": ("ドッカー", "Docker Compose"),
    "Kubernetes": ("k8s", "クバネティス", "クーバネティス", "EKS", "GKE", "AKS"),
    "AWS": ("Amazon Web Services", "EC2", "S3", "Lambda", "アマゾンウェブサービス"),
    "GCP": ("Google Cloud", "Google Cloud Platform"),
    "Azure": ("Microsoft Azure",),
    "Linux": ("リナックス", "Ubuntu", "RHEL", "CentOS"),
    "Terraform": (),
    "Ansible": (),
    "Jenkins": (),
    "CI/CD": ("CI / CD", "continuous integration", "continuous delivery", "継続的インテグレーション"),
    "PostgreSQL": ("Postgres", "ポスグレ"),
    "MySQL": (),
    "MongoDB": ("Mongo",),
    "Redis": (),
    "Elasticsearch": ("Elastic Search", "OpenSearch"),
    "Kafka": ("Apache Kafka",),
    "Firebase": (),
    "BigQuery": (),
    "Snowflake": (),
    "Tableau": (),
    "Power BI": ("PowerBI",),
    "Excel": ("Microsoft Excel", "MS Excel", "エクセル"),
    "Figma": (),
    "Jira": (),
    "Salesforce": ("セールスフォース",),
    "SAP": (),
    "REST API": ("RESTful", "REST APIs", "RESTful API", "Web API"),
    "Microservices": ("microservice", "マイクロサービス"),
    "Android": ("Androidアプリ",),
    "iOS": ("iOSアプリ",),
    "Machine Learning": ("ML", "機械学習", "マシンラーニング"),
    "Deep Learning": ("深層学習", "ディープラーニング"),
    "Data Analysis": ("data analytics", "データ分析", "データ解析", "data analyst"),
    "Data Science": ("データサイエンス",),
    "Statistics": ("statistical analysis", "統計", "統計学"),
    "NLP": ("natural language processing", "自然言語処理"),
    "Computer Vision": ("画像認識", "コンピュータビジョン"),
    "Generative AI": ("GenAI", "生成AI", "LLM", "LLMs", "large language models"),
    "Agile": ("Scrum", "アジャイル", "スクラム"),
    "UI/UX Design": ("UI/UX", "UX design", "UI design", "UIデザイン", "UXデザイン"),
    "Cybersecurity": ("information security", "情報セキュリティ", "サイバーセキュリティ"),
    "Photoshop": ("Adobe Photoshop",),
    "Illustrator": ("Adobe Illustrator",),
    "SEO": ("検索エンジン最適化",),
    "Webpack": (),
    "Vite": (),
    "Nginx": (),
}
_SOFT_SKILLS: dict[str, tuple[str, ...]] = {
    "Communication": ("communication skills", "コミュニケーション", "コミュニケーション能力", "コミュ力"),
    "Teamwork": ("team player", "collaboration", "チームワーク", "協調性"),
    "Leadership": ("リーダーシップ", "team lead"),
    "Problem Solving": ("problem-solving", "problem solver", "問題解決", "課題解決"),
    "Critical Thinking": ("logical thinking", "論理的思考", "ロジカルシンキング"),
    "Time Management": ("時間管理",),
    "Project Management": ("プロジェクト管理", "プロジェクトマネジメント", "PMP"),
    "Presentation": ("presentation skills", "public speaking", "プレゼンテーション", "プレゼン"),
    "Customer Service": ("customer support", "顧客対応", "接客"),
    "Negotiation": ("交渉", "交渉力"),
    "Adaptability": ("柔軟性",),
    "Initiative": ("self-starter", "self-motivated", "proactive", "主体性", "自主性"),
    "Mentoring": ("mentorship", "メンタリング", "後輩指導"),
    "English": ("英語", "business English", "fluent English", "English fluency", "TOEIC", "ビジネス英語"),
    # Not bare 日本語: Japanese postings mention it for the product ("日本語の文書") more than as a requirement.
    "Japanese": (
        "business Japanese",
        "fluent Japanese",
        "native Japanese",
        "JLPT",
        "ビジネス日本語",
        "日本語能力",
        "日本語ネイティブ",
    ),
}

# Canonical names that are too common as plain words to be matched themselves ("a Japanese
# company", "English-speaking"); only their aliases match ("英語", "business English", ...).
_NOT_AN_ALIAS = frozenset({"English", "Japanese"})

# Everyday words or letters that are skills only when capitalized as the skill is.
_CASE_SENSITIVE = frozenset(
    {
        "Go",
        "R",
        "C",
        "TS",
        "React",
        "Swift",
        "Rust",
        "Ruby",
        "Dart",
        "Express",
        "Spring",
        "Rails",
        "Bootstrap",
        "Spark",
        "Unity",
        "Unreal",
        "Excel",
        "Tableau",
        "SAP",
        "Node",
        "Mongo",
        "ML",
        "S3",
        "EC2",
        "EKS",
        "GKE",
        "AKS",
        "Lambda",
        "Lua",
        "Jest",
        "Agile",
        "Scrum",
        "Illustrator",
        "Snowflake",
        "Vue",
        "Shell",
        "Flask",
        "Keras",
        "Redux",
        "Linux",
        "Perl",
        "Elixir",
        "Scala",
    }
)
# Extra guards: an alias is rejected when the text right after it matches: "Go to the office",
# "R&D", "C-level", "Spring 2025", "Node 3 of the graph". Single letters are also rejected right
# after "-", "." or an apostrophe ("USB-C", "e.g.R").
_NOT_AFTER: dict[str, re.Pattern[str]] = {
    "go": re.compile(
        r"\s+(?:to|ahead|back|beyond|further|live|out|for|with|through|over|on|into|get|above|the|a|an|and\s+get)\b",
        re.IGNORECASE,
    ),
    "r": re.compile(r"\s?[&'’]"),
    "c": re.compile(r"[-'’]"),
    "spring": re.compile(r"\s+(?:\d{2,4}|semester|term|break|intern)", re.IGNORECASE),
    "node": re.compile(r"\s+\d"),
}

SKILLS: dict[str, tuple[str, ...]] = {
    **_PROGRAMMING_LANGUAGES,
    **_FRAMEWORKS_LIBRARIES,
    **_TOOLS_PLATFORMS,
    **_SOFT_SKILLS,
}
# Technical domains (machine learning, data analysis, agile, ...) have no category of their own in
# the profile schema (seed 004): they sit under tools_platforms, the profile's catch-all for
# technical competences that are neither languages nor libraries.
SKILL_CATEGORIES: dict[str, SkillCategory] = {
    **dict.fromkeys(_PROGRAMMING_LANGUAGES, "programming_languages"),
    **dict.fromkeys(_FRAMEWORKS_LIBRARIES, "frameworks_libraries"),
    **dict.fromkeys(_TOOLS_PLATFORMS, "tools_platforms"),
    **dict.fromkeys(_SOFT_SKILLS, "soft_skills"),
}

# Bare forms that need skill context (their longer aliases — Golang, R言語, C言語, CSharp — don't).
_NEEDS_CONTEXT = frozenset({"r", "c", "c#", "c++", "go"})
_SKILL_CONTEXT = re.compile(
    r"\b(?:skills?|languages?|programming|program|proficien\w*|experienced?|knowledge|stack|technolog\w*|"
    r"tools?|coding|code|compil\w*|develop\w*|engineer\w*|programmer|scripts?|using|written|familiar|fluent|"
    r"frameworks?|libraries|backend|back-end|frontend|systems?|software|embedded|statistics|analysis)\b"
    r"|言語|スキル|経験|開発|使用|技術|プログラミング|エンジニア|習得|実装|分析",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[\n。！？!?]|\.(?:\s|$)")
# A capital letter between two names is an initial ("John R. Smith", "Taro C Yamada").
_NAME_BEFORE = re.compile(r"(?:^|\s)[A-Z][a-z]+\s+$")
_NAME_AFTER = re.compile(r"\.?\s+[A-Z][a-z]")

_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_AFTER_BLOCKERS = _ASCII_WORD | {"+", "#"}
_SPACES = re.compile(r"\s+")


def _normalize(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text))


def _key(alias: str) -> str:
    return _normalize(alias).lower()


@dataclass(frozen=True)
class _Alias:
    needle: str  # what to look for: lowercased unless case-sensitive
    canonical: str
    case_sensitive: bool
    bounded_start: bool  # Latin start: the character before must not be an ASCII word character
    bounded_end: bool  # Latin end: the character after must not be an ASCII word character, + or #


def _build_aliases() -> tuple[list[_Alias], dict[str, str]]:
    lookup: dict[str, str] = {}
    aliases: list[_Alias] = []
    for canonical, extra in SKILLS.items():
        for raw in (canonical, *extra):
            needle = _normalize(raw)
            key = needle.lower()
            if lookup.setdefault(key, canonical) != canonical:
                raise ValueError(f"skill alias {raw!r} names both {lookup[key]!r} and {canonical!r}")
            if raw in _NOT_AN_ALIAS:
                continue
            case_sensitive = raw in _CASE_SENSITIVE
            aliases.append(
                _Alias(
                    needle=needle if case_sensitive else key,
                    canonical=canonical,
                    case_sensitive=case_sensitive,
                    bounded_start=needle[0].isascii() and not needle[0].isspace(),
                    bounded_end=needle[-1].isascii() and not needle[-1].isspace(),
                )
            )
    # Deduplicate identical needles (e.g. a canonical name repeated as an alias).
    unique = {(a.needle, a.case_sensitive): a for a in aliases}
    return list(unique.values()), lookup


_ALIASES, _LOOKUP = _build_aliases()


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters ("İ") lengthen when lowercased; keep indices aligned with the original.
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def _find_spans(text: str) -> list[tuple[int, int, str]]:
    lowered = _lower_same_length(text)
    spans: list[tuple[int, int, str]] = []
    for alias in _ALIASES:
        haystack = text if alias.case_sensitive else lowered
        needle = alias.needle
        start = haystack.find(needle)
        while start != -1:
            end = start + len(needle)
            if _accept(text, start, end, alias):
                spans.append((start, end, alias.canonical))
            start = haystack.find(needle, start + 1)
    return spans


def _accept(text: str, start: int, end: int, alias: _Alias) -> bool:
    if alias.bounded_start and start > 0 and text[start - 1] in _ASCII_WORD:
        return False
    if len(alias.needle) == 1:
        if start > 0 and text[start - 1] in "-.'’&/":
            return False  # USB-C, e.g.R, L&R (TOEIC), A/B
        if _NAME_BEFORE.search(text, 0, start) and _NAME_AFTER.match(text, end):
            return False  # an initial
        if end < len(text) and text[end] == "." and end + 1 < len(text) and text[end + 1].isalpha():
            return False  # R.Smith, C.V.
    if alias.bounded_end and end < len(text) and text[end] in _AFTER_BLOCKERS:
        return False
    guard = _NOT_AFTER.get(alias.needle.lower())
    return not (guard is not None and guard.match(text, end))


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence or line around text[start:end]."""
    left = 0
    for match in _SENTENCE_END.finditer(text, 0, start):
        left = match.end()
    right_match = _SENTENCE_END.search(text, end)
    return left, right_match.start() if right_match else len(text)


def _in_skill_context(text: str, span: tuple[int, int, str], spans: list[tuple[int, int, str]]) -> bool:
    start, end, canonical = span
    left, right = _sentence(text, start, end)
    if _SKILL_CONTEXT.search(text, left, right):
        return True
    return any(
        left <= other_start < right and other != canonical and SKILL_CATEGORIES.get(other) != "soft_skills"
        for other_start, _other_end, other in spans
    )


def extract_skills(text: str) -> list[str]:
    """Canonical skill names found in English or Japanese text, in order of first appearance."""
    if not text:
        return []
    normalized = _normalize(text)
    spans = _find_spans(normalized)
    # Longest match first; a shorter match inside an accepted one is dropped.
    spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    taken: list[tuple[int, int, str]] = []
    for start, end, canonical in spans:
        if any(start < t_end and t_start < end for t_start, t_end, _ in taken):
            continue
        taken.append((start, end, canonical))
    first_seen: dict[str, int] = {}
    for span in taken:
        start, end, canonical = span
        if normalized[start:end].lower() in _NEEDS_CONTEXT and not _in_skill_context(normalized, span, taken):
            continue
        if canonical not in first_seen or start < first_seen[canonical]:
            first_seen[canonical] = start
    return sorted(first_seen, key=first_seen.__getitem__)


def canonical_skill(name: str) -> str | None:
    """The canonical name for one skill name or alias ("JS" → "JavaScript"), or None if unknown."""
    if not name or not name.strip():
        return None
    return _LOOKUP.get(_key(name.strip()))


def skills_by_category(skills: list[str]) -> dict[SkillCategory, list[str]]:
    """Split canonical skill names into the profile's four lists; unknown names are dropped."""
    grouped: dict[SkillCategory, list[str]] = {category: [] for category in CATEGORIES}
    for skill in skills:
        category = SKILL_CATEGORIES.get(skill)
        if category is not None and skill not in grouped[category]:
            grouped[category].append(skill)
    return grouped
