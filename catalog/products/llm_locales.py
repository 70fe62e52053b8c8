"""Per-locale wording for the product-content task: prompt text and the honest fallback templates.

The fallback only rephrases the product's own fields (name, brand, category, price, specs,
description) and adds generic, clearly generic care/usage advice for the instrument family; it
never states a fact the listing does not contain (no invented reviews, ratings or comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# MSRPs in the catalog are US dollars (seed 002's msrp_price); the fallback never converts them.
CATALOG_CURRENCY = "USD"

# Instrument families for the generic advice, recognised from the category's slug or name.
KIND_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("electronics", ("amp", "effect", "pedal", "interface", "mixer")),
    ("keys", ("key", "synth", "piano", "organ")),
    ("drums", ("drum", "percussion", "cymbal")),
    ("wind", ("wind", "brass", "sax", "flute", "trumpet", "clarinet", "woodwind")),
    ("strings", ("guitar", "bass", "ukulele", "string", "violin", "mandolin", "banjo")),
)


def instrument_kind(*, category_slug: str, category_name: str) -> str:
    """The family whose generic advice applies; "generic" when the category says nothing we know."""
    text = f"{category_slug} {category_name}".lower()
    for kind, words in KIND_KEYWORDS:
        if any(word in text for word in words):
            return kind
    return "generic"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True, kw_only=True)
class LocaleText:
    language: str  # in English, for logs and the admin
    system: str  # the system prompt, written in the target language
    instructions: str  # the closing instruction of the user prompt
    labels: dict[str, str]  # field labels of the user prompt
    decimal_sep: str
    thousands_sep: str
    price_pattern: str  # "{currency} {amount}" or "{amount} {currency}"
    english_source_note: str  # how a non-English text says that a quoted description is English
    words: frozenset[str]  # common short words of the language (quality check)
    t: dict[str, str]  # fallback sentence templates
    kind_usage: dict[str, str]
    kind_care: dict[str, str]

    def price(self, amount: Decimal | None) -> str | None:
        if amount is None:
            return None
        whole, _, cents = f"{amount:,.2f}".partition(".")
        formatted = whole.replace(",", self.thousands_sep) + self.decimal_sep + cents
        return self.price_pattern.format(currency=CATALOG_CURRENCY, amount=formatted)


_EN_USAGE = {
    "strings": "Tune before every session and check the setup (action and intonation) after changing string gauge.",
    "keys": "Place it on a stable stand at a comfortable height and set up its controls before playing.",
    "drums": "Tune each head evenly and position the hardware so you can play with a relaxed posture.",
    "wind": "Warm up with long tones and follow the maker's advice on reeds or mouthpieces.",
    "electronics": "Start with the volume down and connect all cables before switching the unit on.",
    "generic": "Follow the manufacturer's setup instructions before first use.",
}
_EN_CARE = {
    "strings": "Wipe the strings and body after playing and change the strings regularly.",
    "keys": "Cover it when not in use to keep dust out of the keys and controls.",
    "drums": "Check the hardware for loose screws and replace worn heads.",
    "wind": "Swab out moisture after every session and keep the instrument in its case.",
    "electronics": "Keep the unit dry and ventilated, and use only the power supply the manufacturer specifies.",
    "generic": "Clean the instrument after use and store it in a dry place.",
}
_EN_T = {
    "overview": "The {name} is made by {brand} and listed in the {category} category.",
    "price": "Its list price (MSRP) is {price}.",
    "no_price": "No list price (MSRP) was provided.",
    "description": "From the product listing: {description}",
    "ideal_for": "Players looking for {category} from {brand}",
    "tech_specs": "The listing gives {count} specification(s); the main ones are listed here.",
    "tech_none": "The listing gives no detailed specifications.",
    "no_specs_item": "No specifications were provided",
    "verify": "Check the exact specifications with the manufacturer or retailer before buying.",
    "value_price": "The list price is {price}; retailer prices often differ from the MSRP, so compare them.",
    "value_none": "No list price was provided; compare current retailer prices before buying.",
    "buy_if": "You are looking for {category} from {brand}.",
    "think_twice": "Compare it with similar instruments in the same price range before deciding.",
    "getting_started": "Read the manufacturer's manual and set the instrument up before first use.",
    "try_first": "If you can, try it in person to check that it suits your playing.",
    "care_routine": "Keep the instrument away from extreme temperatures, humidity and direct sunlight.",
    "verdict": (
        "No independent expert assessment is available yet; this text was written automatically "
        "from the manufacturer's listing."
    ),
    "reviews_none": "No customer reviews are available for this product yet.",
    "q_brand": "Who makes the {name}?",
    "a_brand": "The {name} is made by {brand}.",
    "q_category": "Which category is the {name} listed in?",
    "a_category": "It is listed under {category}.",
    "q_price": "What is the list price of the {name}?",
    "a_price": "Its list price (MSRP) is {price}.",
    "a_no_price": "No list price (MSRP) was provided.",
    "q_specs": "Which specifications does the listing give?",
    "a_no_specs": "The listing gives no specifications.",
}

_EN_WORDS = _words("the and with for this that is are of to you your it its from on in be can has have will")

LOCALE_TEXTS: dict[str, LocaleText] = {
    "en-US": LocaleText(
        language="English (US)",
        system=(
            "You are an expert musical-instrument editor writing product content for an online store. "
            "Write in American English. Use only the facts given about the product; when a fact is not "
            "given, do not guess it. You have no access to real customer reviews: never invent reviews, "
            "ratings, quotes or review counts; describe what buyers of this kind of instrument typically "
            "value and worry about instead."
        ),
        instructions="Write the product content now, in American English, following the JSON schema.",
        labels={
            "name": "Product",
            "brand": "Brand",
            "category": "Category",
            "price": "List price (MSRP)",
            "description": "Description",
            "specs": "Specifications",
            "none": "not given",
        },
        decimal_sep=".",
        thousands_sep=",",
        price_pattern="{currency} {amount}",
        english_source_note="",
        words=_EN_WORDS,
        t=_EN_T,
        kind_usage=_EN_USAGE,
        kind_care=_EN_CARE,
    ),
    "en-GB": LocaleText(
        language="English (UK)",
        system=(
            "You are an expert musical-instrument editor writing product content for an online shop. "
            "Write in British English with British spelling (colour, centre, favourite). Use only the facts "
            "given about the product; when a fact is not given, do not guess it. You have no access to real "
            "customer reviews: never invent reviews, ratings, quotes or review counts; describe what buyers "
            "of this kind of instrument typically value and worry about instead."
        ),
        instructions="Write the product content now, in British English, following the JSON schema.",
        labels={
            "name": "Product",
            "brand": "Brand",
            "category": "Category",
            "price": "Recommended retail price (RRP)",
            "description": "Description",
            "specs": "Specifications",
            "none": "not given",
        },
        decimal_sep=".",
        thousands_sep=",",
        price_pattern="{currency} {amount}",
        english_source_note="",
        words=_EN_WORDS,
        t={
            **_EN_T,
            "price": "Its recommended retail price (RRP) is {price}.",
            "no_price": "No recommended retail price (RRP) was provided.",
            "value_price": "The RRP is {price}; shop prices often differ from the RRP, so compare them.",
            "value_none": "No RRP was provided; compare current shop prices before buying.",
            "q_price": "What is the recommended retail price of the {name}?",
            "a_price": "Its recommended retail price (RRP) is {price}.",
            "a_no_price": "No recommended retail price (RRP) was provided.",
            "verify": "Check the exact specifications with the manufacturer or shop before buying.",
        },
        kind_usage=_EN_USAGE,
        kind_care=_EN_CARE,
    ),
    "es-ES": LocaleText(
        language="Spanish (Spain)",
        system=(
            "Eres un redactor experto en instrumentos musicales que escribe contenido de producto para una "
            "tienda en línea. Escribe en español de España. Usa solo los datos que se indican sobre el "
            "producto; si un dato no se indica, no lo supongas. No tienes acceso a opiniones reales de "
            "clientes: nunca inventes opiniones, valoraciones, citas ni cifras de reseñas; describe en su "
            "lugar lo que suelen valorar y temer los compradores de este tipo de instrumento."
        ),
        instructions="Escribe ahora el contenido del producto, en español de España, siguiendo el esquema JSON.",
        labels={
            "name": "Producto",
            "brand": "Marca",
            "category": "Categoría",
            "price": "Precio de venta recomendado (PVP)",
            "description": "Descripción",
            "specs": "Especificaciones",
            "none": "no indicado",
        },
        decimal_sep=",",
        thousands_sep=".",
        price_pattern="{amount} {currency}",
        english_source_note=" (en inglés)",
        words=_words("el la los las y con para es una un del que por en de se su sus al"),
        t={
            "overview": "{name} es un producto de {brand} de la categoría {category}.",
            "price": "Su precio de venta recomendado (PVP) es de {price}.",
            "no_price": "No se ha indicado el precio de venta recomendado (PVP).",
            "description": "Según la ficha del producto{source_note}: {description}",
            "ideal_for": "Músicos que buscan {category} de {brand}",
            "tech_specs": "La ficha indica {count} especificación(es); aquí se recogen las principales.",
            "tech_none": "La ficha no indica especificaciones detalladas.",
            "no_specs_item": "No se han indicado especificaciones",
            "verify": "Confirma las especificaciones exactas con el fabricante o la tienda antes de comprar.",
            "value_price": "El PVP es de {price}; los precios de las tiendas suelen variar, así que compáralos.",
            "value_none": "No se ha indicado el PVP; compara los precios actuales de las tiendas antes de comprar.",
            "buy_if": "Buscas {category} de {brand}.",
            "think_twice": "Compáralo con instrumentos similares del mismo rango de precio antes de decidir.",
            "getting_started": "Lee el manual del fabricante y ajusta el instrumento antes del primer uso.",
            "try_first": "Si puedes, pruébalo en persona para comprobar que se adapta a tu forma de tocar.",
            "care_routine": "Mantén el instrumento lejos de temperaturas extremas, la humedad y la luz solar directa.",
            "verdict": (
                "Todavía no hay una valoración profesional independiente; este texto se ha redactado "
                "automáticamente a partir de la ficha del fabricante."
            ),
            "reviews_none": "Todavía no hay opiniones de clientes sobre este producto.",
            "q_brand": "¿Quién fabrica {name}?",
            "a_brand": "{name} lo fabrica {brand}.",
            "q_category": "¿En qué categoría está {name}?",
            "a_category": "Está en la categoría {category}.",
            "q_price": "¿Cuál es el precio de venta recomendado de {name}?",
            "a_price": "Su PVP es de {price}.",
            "a_no_price": "No se ha indicado el PVP.",
            "q_specs": "¿Qué especificaciones indica la ficha?",
            "a_no_specs": "La ficha no indica especificaciones.",
        },
        kind_usage={
            "strings": "Afina antes de cada sesión y revisa el ajuste (acción y octavación) si cambias el calibre "
            "de las cuerdas.",
            "keys": "Colócalo en un soporte estable a una altura cómoda y configura sus controles antes de tocar.",
            "drums": "Afina cada parche de forma uniforme y coloca el herraje para tocar con una postura relajada.",
            "wind": "Calienta con notas largas y sigue las recomendaciones del fabricante sobre cañas o boquillas.",
            "electronics": "Empieza con el volumen al mínimo y conecta todos los cables antes de encender el equipo.",
            "generic": "Sigue las instrucciones de montaje del fabricante antes del primer uso.",
        },
        kind_care={
            "strings": "Limpia las cuerdas y el cuerpo después de tocar y cambia las cuerdas con regularidad.",
            "keys": "Cúbrelo cuando no lo uses para que no entre polvo en las teclas ni en los controles.",
            "drums": "Revisa que no haya tornillos sueltos en el herraje y cambia los parches gastados.",
            "wind": "Seca la humedad interior después de cada sesión y guarda el instrumento en su estuche.",
            "electronics": "Mantén el equipo seco y ventilado, y usa solo la fuente de alimentación que indica el "
            "fabricante.",
            "generic": "Limpia el instrumento después de usarlo y guárdalo en un lugar seco.",
        },
    ),
    "fr-FR": LocaleText(
        language="French (France)",
        system=(
            "Vous êtes un rédacteur expert en instruments de musique qui écrit des fiches produit pour une "
            "boutique en ligne. Écrivez en français de France. N'utilisez que les informations fournies sur "
            "le produit ; si une information manque, ne la devinez pas. Vous n'avez accès à aucun avis client "
            "réel : n'inventez jamais d'avis, de notes, de citations ni de nombres d'avis ; décrivez plutôt "
            "ce que les acheteurs de ce type d'instrument apprécient et redoutent habituellement."
        ),
        instructions="Rédigez maintenant le contenu du produit, en français, en suivant le schéma JSON.",
        labels={
            "name": "Produit",
            "brand": "Marque",
            "category": "Catégorie",
            "price": "Prix public conseillé",
            "description": "Description",
            "specs": "Caractéristiques",
            "none": "non indiqué",
        },
        decimal_sep=",",
        thousands_sep="\u202f",
        price_pattern="{amount} {currency}",
        english_source_note=" (en anglais)",
        words=_words("le la les et avec pour est une un des du que vous pas en de au sur son ses"),
        t={
            "overview": "{name} est un produit de la marque {brand}, dans la catégorie {category}.",
            "price": "Son prix public conseillé est de {price}.",
            "no_price": "Aucun prix public conseillé n'a été indiqué.",
            "description": "D'après la fiche produit{source_note} : {description}",
            "ideal_for": "Musiciens qui recherchent un produit {brand} de la catégorie {category}",
            "tech_specs": "La fiche indique {count} caractéristique(s) ; les principales figurent ici.",
            "tech_none": "La fiche n'indique pas de caractéristiques détaillées.",
            "no_specs_item": "Aucune caractéristique n'a été indiquée",
            "verify": "Vérifiez les caractéristiques exactes auprès du fabricant ou du revendeur avant l'achat.",
            "value_price": "Le prix public conseillé est de {price} ; les prix en magasin varient souvent, "
            "comparez-les.",
            "value_none": "Aucun prix public conseillé n'a été indiqué ; comparez les prix actuels des revendeurs "
            "avant l'achat.",
            "buy_if": "Vous recherchez un produit {brand} de la catégorie {category}.",
            "think_twice": "Comparez-le avec des instruments similaires de la même gamme de prix avant de décider.",
            "getting_started": "Lisez le manuel du fabricant et réglez l'instrument avant la première utilisation.",
            "try_first": "Si possible, essayez-le en magasin pour vérifier qu'il convient à votre jeu.",
            "care_routine": "Tenez l'instrument à l'écart des températures extrêmes, de l'humidité et du soleil "
            "direct.",
            "verdict": (
                "Aucune évaluation professionnelle indépendante n'est encore disponible ; ce texte a été rédigé "
                "automatiquement à partir de la fiche du fabricant."
            ),
            "reviews_none": "Aucun avis client n'est encore disponible pour ce produit.",
            "q_brand": "Qui fabrique {name} ?",
            "a_brand": "{name} est fabriqué par {brand}.",
            "q_category": "Dans quelle catégorie se trouve {name} ?",
            "a_category": "Il figure dans la catégorie {category}.",
            "q_price": "Quel est le prix public conseillé de {name} ?",
            "a_price": "Son prix public conseillé est de {price}.",
            "a_no_price": "Aucun prix public conseillé n'a été indiqué.",
            "q_specs": "Quelles caractéristiques la fiche indique-t-elle ?",
            "a_no_specs": "La fiche n'indique aucune caractéristique.",
        },
        kind_usage={
            "strings": "Accordez avant chaque séance et vérifiez le réglage (action et justesse) après un changement "
            "de tirant de cordes.",
            "keys": "Installez-le sur un support stable à une hauteur confortable et réglez ses commandes avant "
            "de jouer.",
            "drums": "Accordez chaque peau de façon régulière et placez le hardware pour jouer dans une posture "
            "détendue.",
            "wind": "Échauffez-vous avec des notes tenues et suivez les conseils du fabricant sur les anches ou "
            "les embouchures.",
            "electronics": "Commencez volume au minimum et branchez tous les câbles avant d'allumer l'appareil.",
            "generic": "Suivez les instructions de montage du fabricant avant la première utilisation.",
        },
        kind_care={
            "strings": "Essuyez les cordes et le corps après avoir joué et changez les cordes régulièrement.",
            "keys": "Couvrez-le quand vous ne l'utilisez pas pour protéger les touches et les commandes de la "
            "poussière.",
            "drums": "Vérifiez que les vis du hardware sont bien serrées et remplacez les peaux usées.",
            "wind": "Séchez l'humidité après chaque séance et rangez l'instrument dans son étui.",
            "electronics": "Gardez l'appareil au sec et ventilé, et n'utilisez que l'alimentation indiquée par le "
            "fabricant.",
            "generic": "Nettoyez l'instrument après usage et rangez-le dans un endroit sec.",
        },
    ),
    "de-DE": LocaleText(
        language="German (Germany)",
        system=(
            "Du bist ein erfahrener Fachredakteur für Musikinstrumente und schreibst Produkttexte für einen "
            "Onlineshop. Schreibe auf Deutsch. Verwende nur die angegebenen Fakten zum Produkt; was nicht "
            "angegeben ist, rätst du nicht. Du hast keinen Zugriff auf echte Kundenbewertungen: Erfinde nie "
            "Bewertungen, Sterne, Zitate oder Bewertungszahlen; beschreibe stattdessen, was Käufer dieser "
            "Art von Instrument üblicherweise schätzen und worauf sie achten."
        ),
        instructions="Schreibe jetzt den Produktinhalt auf Deutsch und halte dich an das JSON-Schema.",
        labels={
            "name": "Produkt",
            "brand": "Marke",
            "category": "Kategorie",
            "price": "Unverbindliche Preisempfehlung (UVP)",
            "description": "Beschreibung",
            "specs": "Technische Daten",
            "none": "nicht angegeben",
        },
        decimal_sep=",",
        thousands_sep=".",
        price_pattern="{amount} {currency}",
        english_source_note=" (auf Englisch)",
        words=_words("der die das und mit für ist ein eine nicht sie zu auf den dem des im von bei"),
        t={
            "overview": "{name} ist ein Produkt von {brand} aus der Kategorie {category}.",
            "price": "Die unverbindliche Preisempfehlung (UVP) beträgt {price}.",
            "no_price": "Es wurde keine unverbindliche Preisempfehlung (UVP) angegeben.",
            "description": "Aus der Produktbeschreibung{source_note}: {description}",
            "ideal_for": "Musiker, die {category} von {brand} suchen",
            "tech_specs": "Die Produktangaben nennen {count} technische Daten; die wichtigsten stehen hier.",
            "tech_none": "Die Produktangaben enthalten keine detaillierten technischen Daten.",
            "no_specs_item": "Es wurden keine technischen Daten angegeben",
            "verify": "Prüfe die genauen technischen Daten vor dem Kauf beim Hersteller oder Händler.",
            "value_price": "Die UVP beträgt {price}; Händlerpreise weichen oft davon ab, ein Vergleich lohnt sich.",
            "value_none": "Es wurde keine UVP angegeben; vergleiche vor dem Kauf die aktuellen Händlerpreise.",
            "buy_if": "Du suchst {category} von {brand}.",
            "think_twice": "Vergleiche es vor der Entscheidung mit ähnlichen Instrumenten derselben Preisklasse.",
            "getting_started": "Lies die Anleitung des Herstellers und richte das Instrument vor dem ersten Einsatz "
            "ein.",
            "try_first": "Probiere es nach Möglichkeit selbst aus, um zu sehen, ob es zu deinem Spiel passt.",
            "care_routine": "Schütze das Instrument vor extremen Temperaturen, Feuchtigkeit und direkter "
            "Sonneneinstrahlung.",
            "verdict": (
                "Eine unabhängige Experteneinschätzung liegt noch nicht vor; dieser Text wurde automatisch aus "
                "den Herstellerangaben erstellt."
            ),
            "reviews_none": "Für dieses Produkt liegen noch keine Kundenbewertungen vor.",
            "q_brand": "Wer stellt {name} her?",
            "a_brand": "{name} wird von {brand} hergestellt.",
            "q_category": "In welcher Kategorie ist {name} gelistet?",
            "a_category": "Es ist in der Kategorie {category} gelistet.",
            "q_price": "Wie hoch ist die unverbindliche Preisempfehlung für {name}?",
            "a_price": "Die UVP beträgt {price}.",
            "a_no_price": "Es wurde keine UVP angegeben.",
            "q_specs": "Welche technischen Daten nennen die Produktangaben?",
            "a_no_specs": "Die Produktangaben nennen keine technischen Daten.",
        },
        kind_usage={
            "strings": "Stimme vor jeder Session und prüfe die Einstellung (Saitenlage und Oktavreinheit), wenn du "
            "die Saitenstärke wechselst.",
            "keys": "Stelle es auf einen stabilen Ständer in bequemer Höhe und richte die Bedienelemente vor dem "
            "Spielen ein.",
            "drums": "Stimme jedes Fell gleichmäßig und stelle die Hardware so ein, dass du entspannt spielen kannst.",
            "wind": "Wärme dich mit langen Tönen auf und beachte die Herstellerhinweise zu Blättern oder Mundstücken.",
            "electronics": "Beginne mit heruntergedrehter Lautstärke und schließe alle Kabel an, bevor du das Gerät "
            "einschaltest.",
            "generic": "Befolge vor dem ersten Einsatz die Aufbauanleitung des Herstellers.",
        },
        kind_care={
            "strings": "Wische Saiten und Korpus nach dem Spielen ab und wechsle die Saiten regelmäßig.",
            "keys": "Decke es ab, wenn du es nicht benutzt, damit kein Staub in Tasten und Regler gelangt.",
            "drums": "Prüfe die Hardware auf lockere Schrauben und ersetze abgenutzte Felle.",
            "wind": "Entferne nach jeder Session die Feuchtigkeit und bewahre das Instrument im Koffer auf.",
            "electronics": "Halte das Gerät trocken und belüftet und verwende nur das vom Hersteller angegebene "
            "Netzteil.",
            "generic": "Reinige das Instrument nach dem Spielen und lagere es an einem trockenen Ort.",
        },
    ),
    "it-IT": LocaleText(
        language="Italian (Italy)",
        system=(
            "Sei un redattore esperto di strumenti musicali che scrive schede prodotto per un negozio online. "
            "Scrivi in italiano. Usa solo i dati forniti sul prodotto; se un dato non è indicato, non "
            "indovinarlo. Non hai accesso a recensioni reali dei clienti: non inventare mai recensioni, voti, "
            "citazioni o numeri di recensioni; descrivi invece ciò che gli acquirenti di questo tipo di "
            "strumento di solito apprezzano e temono."
        ),
        instructions="Scrivi ora il contenuto del prodotto, in italiano, seguendo lo schema JSON.",
        labels={
            "name": "Prodotto",
            "brand": "Marca",
            "category": "Categoria",
            "price": "Prezzo di listino consigliato",
            "description": "Descrizione",
            "specs": "Specifiche tecniche",
            "none": "non indicato",
        },
        decimal_sep=",",
        thousands_sep=".",
        price_pattern="{amount} {currency}",
        english_source_note=" (in inglese)",
        words=_words("il lo la le gli e con per è una un di che del della non in da su al"),
        t={
            "overview": "{name} è un prodotto {brand} della categoria {category}.",
            "price": "Il prezzo di listino consigliato è di {price}.",
            "no_price": "Non è stato indicato un prezzo di listino consigliato.",
            "description": "Dalla scheda del prodotto{source_note}: {description}",
            "ideal_for": "Musicisti che cercano {category} di {brand}",
            "tech_specs": "La scheda riporta {count} specifica/che; qui sono elencate le principali.",
            "tech_none": "La scheda non riporta specifiche dettagliate.",
            "no_specs_item": "Non sono state indicate specifiche",
            "verify": "Verifica le specifiche esatte con il produttore o il rivenditore prima dell'acquisto.",
            "value_price": "Il prezzo di listino è di {price}; i prezzi dei negozi spesso differiscono, confrontali.",
            "value_none": "Non è stato indicato un prezzo di listino; confronta i prezzi attuali dei negozi prima "
            "dell'acquisto.",
            "buy_if": "Cerchi {category} di {brand}.",
            "think_twice": "Confrontalo con strumenti simili della stessa fascia di prezzo prima di decidere.",
            "getting_started": "Leggi il manuale del produttore e regola lo strumento prima del primo utilizzo.",
            "try_first": "Se puoi, provalo di persona per capire se si adatta al tuo modo di suonare.",
            "care_routine": "Tieni lo strumento lontano da temperature estreme, umidità e luce solare diretta.",
            "verdict": (
                "Non è ancora disponibile una valutazione professionale indipendente; questo testo è stato "
                "scritto automaticamente a partire dalla scheda del produttore."
            ),
            "reviews_none": "Non sono ancora disponibili recensioni dei clienti per questo prodotto.",
            "q_brand": "Chi produce {name}?",
            "a_brand": "{name} è prodotto da {brand}.",
            "q_category": "In quale categoria si trova {name}?",
            "a_category": "Si trova nella categoria {category}.",
            "q_price": "Qual è il prezzo di listino consigliato di {name}?",
            "a_price": "Il prezzo di listino consigliato è di {price}.",
            "a_no_price": "Non è stato indicato un prezzo di listino consigliato.",
            "q_specs": "Quali specifiche riporta la scheda?",
            "a_no_specs": "La scheda non riporta specifiche.",
        },
        kind_usage={
            "strings": "Accorda prima di ogni sessione e controlla la regolazione (action e intonazione) se cambi "
            "la scalatura delle corde.",
            "keys": "Sistemalo su un supporto stabile a un'altezza comoda e regola i comandi prima di suonare.",
            "drums": "Accorda ogni pelle in modo uniforme e posiziona l'hardware per suonare in una postura rilassata.",
            "wind": "Riscaldati con note lunghe e segui i consigli del produttore su ance o bocchini.",
            "electronics": "Parti con il volume al minimo e collega tutti i cavi prima di accendere l'apparecchio.",
            "generic": "Segui le istruzioni di montaggio del produttore prima del primo utilizzo.",
        },
        kind_care={
            "strings": "Pulisci corde e corpo dopo aver suonato e cambia le corde con regolarità.",
            "keys": "Coprilo quando non lo usi per evitare che la polvere entri nei tasti e nei comandi.",
            "drums": "Controlla che le viti dell'hardware non siano allentate e sostituisci le pelli consumate.",
            "wind": "Asciuga l'umidità dopo ogni sessione e conserva lo strumento nella sua custodia.",
            "electronics": "Tieni l'apparecchio asciutto e ventilato e usa solo l'alimentatore indicato dal "
            "produttore.",
            "generic": "Pulisci lo strumento dopo l'uso e conservalo in un luogo asciutto.",
        },
    ),
    "pt-PT": LocaleText(
        language="Portuguese (Portugal)",
        system=(
            "És um redator especialista em instrumentos musicais que escreve conteúdos de produto para uma "
            "loja online. Escreve em português europeu (de Portugal), não em português do Brasil. Usa apenas "
            "os dados indicados sobre o produto; se um dado não for indicado, não o adivinhes. Não tens acesso "
            "a opiniões reais de clientes: nunca inventes opiniões, classificações, citações ou números de "
            "avaliações; descreve antes o que os compradores deste tipo de instrumento costumam valorizar e recear."
        ),
        instructions="Escreve agora o conteúdo do produto, em português europeu, seguindo o esquema JSON.",
        labels={
            "name": "Produto",
            "brand": "Marca",
            "category": "Categoria",
            "price": "Preço de venda recomendado (PVP)",
            "description": "Descrição",
            "specs": "Especificações",
            "none": "não indicado",
        },
        decimal_sep=",",
        thousands_sep=".",
        price_pattern="{amount} {currency}",
        english_source_note=" (em inglês)",
        words=_words("o a os as e com para é uma um do da dos das que não em no na ao"),
        t={
            "overview": "{name} é um produto da marca {brand}, na categoria {category}.",
            "price": "O preço de venda recomendado (PVP) é de {price}.",
            "no_price": "Não foi indicado o preço de venda recomendado (PVP).",
            "description": "Segundo a ficha do produto{source_note}: {description}",
            "ideal_for": "Músicos que procuram {category} da {brand}",
            "tech_specs": "A ficha indica {count} especificação(ões); as principais estão aqui.",
            "tech_none": "A ficha não indica especificações detalhadas.",
            "no_specs_item": "Não foram indicadas especificações",
            "verify": "Confirma as especificações exatas junto do fabricante ou da loja antes de comprar.",
            "value_price": "O PVP é de {price}; os preços nas lojas variam muitas vezes, por isso compara-os.",
            "value_none": "Não foi indicado o PVP; compara os preços atuais das lojas antes de comprar.",
            "buy_if": "Procuras {category} da {brand}.",
            "think_twice": "Compara-o com instrumentos semelhantes da mesma gama de preço antes de decidir.",
            "getting_started": "Lê o manual do fabricante e afina o instrumento antes da primeira utilização.",
            "try_first": "Se puderes, experimenta-o pessoalmente para ver se se adapta à tua forma de tocar.",
            "care_routine": "Mantém o instrumento longe de temperaturas extremas, humidade e luz solar direta.",
            "verdict": (
                "Ainda não existe uma avaliação profissional independente; este texto foi escrito "
                "automaticamente a partir da ficha do fabricante."
            ),
            "reviews_none": "Ainda não existem opiniões de clientes sobre este produto.",
            "q_brand": "Quem fabrica {name}?",
            "a_brand": "{name} é fabricado pela {brand}.",
            "q_category": "Em que categoria está {name}?",
            "a_category": "Está na categoria {category}.",
            "q_price": "Qual é o preço de venda recomendado de {name}?",
            "a_price": "O PVP é de {price}.",
            "a_no_price": "Não foi indicado o PVP.",
            "q_specs": "Que especificações indica a ficha?",
            "a_no_specs": "A ficha não indica especificações.",
        },
        kind_usage={
            "strings": "Afina antes de cada sessão e verifica a regulação (ação e afinação) quando mudares o calibre "
            "das cordas.",
            "keys": "Coloca-o num suporte estável a uma altura confortável e configura os controlos antes de tocar.",
            "drums": "Afina cada pele de forma uniforme e posiciona as ferragens para tocares numa postura "
            "descontraída.",
            "wind": "Aquece com notas longas e segue as indicações do fabricante sobre palhetas ou boquilhas.",
            "electronics": "Começa com o volume no mínimo e liga todos os cabos antes de ligar o aparelho.",
            "generic": "Segue as instruções de montagem do fabricante antes da primeira utilização.",
        },
        kind_care={
            "strings": "Limpa as cordas e o corpo depois de tocar e muda as cordas regularmente.",
            "keys": "Cobre-o quando não estiver em uso para evitar pó nas teclas e nos controlos.",
            "drums": "Verifica se há parafusos soltos nas ferragens e substitui as peles gastas.",
            "wind": "Seca a humidade depois de cada sessão e guarda o instrumento no estojo.",
            "electronics": "Mantém o aparelho seco e ventilado e usa apenas a fonte de alimentação indicada pelo "
            "fabricante.",
            "generic": "Limpa o instrumento depois de o usares e guarda-o num local seco.",
        },
    ),
}
