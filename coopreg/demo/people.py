"""Deterministic synthetic members for demo data and benchmarks.

`people("CR", 1000, seed=7)` yields the same 1,000 realistic-looking members on every run and
every machine: one `random.Random(seed)` drives everything, and nothing depends on hash order or
the clock (`today` defaults to a fixed date). Costa Rica ("CR") and the Philippines ("PH") are
modelled in detail; Brazil ("BR") and Argentina ("AR") get a simpler generic treatment.

ID numbers are in the compact normal form that `coopreg.members.national_ids.normalise_id`
stores: CR cédula física (10 digits, python-stdnum `cr.cpf`), BR CPF and AR CUIL with correct
check digits (`br.cpf`, `ar.cuit`), PH PhilSys number (12 digits, the cooperative's pattern).
The hot loop computes check digits itself and never calls python-stdnum.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

__all__ = ["Person", "full_name", "people", "valid_id", "COUNTRIES", "DEFAULT_TODAY"]

COUNTRIES = ("CR", "PH", "BR", "AR")
DEFAULT_TODAY = date(2026, 11, 1)
_EARLIEST_JOIN = date(2005, 1, 1)
_YEAR = 365.2425  # days, for dependants' approximate ages


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    middle_name: str | None  # PH: mother's maiden surname; CR/BR/AR: a second given name or None
    last_name: str
    second_last_name: str | None  # CR and AR: the second (maternal) surname; PH/BR: None
    sex: str  # "female" | "male"
    date_of_birth: date
    id_type: str  # CR: "cr_cedula"; PH: "local"; BR: "br_cpf"; AR: "ar_cuil"
    id_number: str  # compact normal form
    phone: str  # compact E.164
    address: str
    locality: str
    sector: str
    occupation: str
    declared_income: int  # whole currency units per month
    joined_on: date
    dependants: tuple[tuple[str, str, date], ...]  # (full name, relation, date of birth)


def full_name(p: Person) -> str:
    """The name as written on a form: given names, then surname(s)."""
    return " ".join(
        part for part in (p.first_name, p.middle_name, p.last_name, p.second_last_name) if part
    )


# --------------------------------------------------------------------------------------------
# Names (roughly most common first: `_zipf` picks early entries more often)
# --------------------------------------------------------------------------------------------

_CR_FEMALE = (
    "María", "Ana", "Sofía", "Valeria", "Daniela", "Gabriela", "Andrea", "Laura", "Carolina",
    "Adriana", "Mariela", "Marcela", "Silvia", "Patricia", "Karla", "Tatiana", "Melissa",
    "Natalia", "Paola", "Jimena", "Camila", "Valentina", "Isabel", "Rosa", "Yolanda", "Xinia",
    "Marta", "Flor", "Lorena", "Rebeca", "Kattia", "Yorleny", "Hazel", "Wendy", "Ivannia",
    "Ligia", "Cinthya", "Emilia", "Raquel", "Priscilla", "Ericka", "Johanna", "Alejandra",
    "Lucía", "Elena", "Teresa", "Victoria", "Guadalupe", "Marianela", "Dinia",
)
_CR_MALE = (
    "José", "Juan", "Luis", "Carlos", "Jorge", "Manuel", "Andrés", "Diego", "Daniel", "Pablo",
    "Alejandro", "Sebastián", "Mauricio", "Rodolfo", "Rafael", "Francisco", "Gerardo", "Óscar",
    "Marvin", "Minor", "Greivin", "Randall", "Esteban", "Fabián", "Kevin", "Javier", "Ricardo",
    "Alonso", "Adrián", "Mario", "Víctor", "Álvaro", "Eduardo", "Fernando", "Roberto",
    "Wilberth", "Johnny", "Geovanny", "Mainor", "Rolando", "Jesús", "Gabriel", "Felipe",
    "Arturo", "Ronald", "Olman", "Ulises", "Warner",
)
_CR_FEMALE_2 = (
    "Isabel", "Fernanda", "Gabriela", "Lucía", "Elena", "Alejandra", "Paola", "Cristina",
    "Vanessa", "Patricia", "Eugenia", "Cecilia", "Teresa", "de los Ángeles", "Mercedes",
)
_CR_MALE_2 = (
    "Pablo", "Carlos", "Alberto", "Andrés", "Diego", "Antonio", "Francisco", "Enrique",
    "Eduardo", "Manuel", "Fernando", "Alonso", "Ignacio", "Gerardo", "Mauricio", "Rodrigo",
    "Daniel", "Ángel", "David", "Joaquín",
)
_CR_SURNAMES = (
    "Rodríguez", "Vargas", "Jiménez", "Mora", "Rojas", "González", "Sánchez", "Hernández",
    "Castro", "Ramírez", "Araya", "Solís", "Chaves", "Quesada", "Núñez", "Alfaro", "Alvarado",
    "Arias", "Brenes", "Calderón", "Campos", "Carvajal", "Céspedes", "Cordero", "Corrales",
    "Fernández", "Gómez", "Gutiérrez", "Herrera", "López", "Madrigal", "Méndez", "Monge",
    "Montero", "Morales", "Murillo", "Navarro", "Obando", "Pérez", "Picado", "Porras", "Salas",
    "Segura", "Soto", "Ugalde", "Ulate", "Umaña", "Valverde", "Venegas", "Villalobos",
    "Zamora", "Zúñiga", "Barrantes", "Badilla", "Cascante", "Cubero", "Esquivel", "Fallas",
    "Granados", "Leiva", "Mena", "Molina", "Mata", "Retana", "Sibaja", "Trejos", "Vega",
    "Víquez",
)

_PH_FEMALE = (
    "Maria", "Maria Luz", "Marites", "Mary Grace", "Maricel", "Rowena", "Jocelyn", "Lorna",
    "Evangeline", "Rosalinda", "Teresita", "Erlinda", "Luzviminda", "Marilou", "Gemma",
    "Cherry", "Jovelyn", "Analyn", "Arlene", "Rhea", "Kristine", "Angelica", "Princess",
    "Mylene", "Rosemarie", "Divina", "Corazon", "Leonora", "Nenita", "Editha", "Josephine",
    "Janet", "Liza", "Shiela", "Marilyn", "Girlie", "Lovely", "Joy", "Rachelle", "Jennylyn",
    "Aileen", "Ligaya", "Imelda", "Florencia", "Maria Cristina", "Rosario",
)
_PH_MALE = (
    "Jose", "Juan", "Rodelio", "Rolando", "Romeo", "Ricardo", "Eduardo", "Ernesto", "Danilo",
    "Rogelio", "Reynaldo", "Arnel", "Jomar", "Mark Anthony", "John Paul", "Noel", "Joel",
    "Ramil", "Renato", "Efren", "Leonardo", "Alfredo", "Bienvenido", "Crisanto", "Dante",
    "Edgardo", "Ferdinand", "Gilbert", "Jerome", "Jericho", "Jayson", "Kristoffer", "Manuel",
    "Nestor", "Orlando", "Ronaldo", "Virgilio", "Wilfredo", "Zaldy", "Rodel", "Ariel",
    "Benjie", "Marlon", "Jeffrey", "Christian", "Angelo", "Jose Mari",
)
_PH_SURNAMES = (
    "Dela Cruz", "Santos", "Reyes", "Garcia", "Bautista", "Mendoza", "Cruz", "Villanueva",
    "Ramos", "Aquino", "Gonzales", "Castillo", "Flores", "Torres", "Lopez", "Rivera",
    "Fernandez", "Dizon", "Navarro", "Mercado", "Pascual", "Domingo", "Salazar", "Gutierrez",
    "Soriano", "Tolentino", "De Guzman", "De Leon", "Manalo", "Macaraeg", "Magbanua",
    "Dimaculangan", "Panganiban", "Tan", "Lim", "Agustin", "Castro", "Francisco", "Valdez",
    "Corpuz", "Galang", "Ocampo", "Padilla", "Rosales", "Samonte", "Sison", "Umali", "Abella",
    "Bernardo", "Cabrera", "Del Rosario", "Estrada", "Javier", "Lacsamana", "Marquez",
    "Perez", "Ilagan", "Espiritu", "Buenaventura", "Sarmiento", "Evangelista",
)

_BR_FEMALE = (
    "Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda",
    "Patrícia", "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia",
    "Luciana", "Vanessa", "Mariana", "Gabriela", "Rosângela", "Raimunda", "Sônia", "Cláudia",
    "Eliane", "Simone", "Tatiane", "Daniela", "Larissa", "Beatriz", "Luana", "Rita",
)
_BR_MALE = (
    "José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz",
    "Marcos", "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe",
    "Raimundo", "Rodrigo", "Sebastião", "André", "Fernando", "Fábio", "Leonardo", "Gustavo",
    "Guilherme", "Matheus", "Márcio", "Thiago", "Diego", "Jorge",
)
_BR_FEMALE_2 = (
    "Aparecida", "de Fátima", "das Graças", "Eduarda", "Clara", "Luiza", "Vitória", "Helena",
    "Cristina", "Lúcia",
)
_BR_MALE_2 = (
    "Carlos", "Henrique", "Eduardo", "Augusto", "Gabriel", "Paulo", "Miguel", "Vítor",
    "Roberto", "Antônio",
)
_BR_SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira",
    "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves",
    "Santana", "Teixeira", "Araújo", "Conceição", "Batista",
)

_AR_FEMALE = (
    "María", "Ana", "Laura", "Silvia", "Graciela", "Marta", "Patricia", "Claudia", "Susana",
    "Mónica", "Norma", "Alicia", "Sandra", "Lorena", "Carolina", "Florencia", "Micaela",
    "Agustina", "Camila", "Valentina", "Sofía", "Lucía", "Julieta", "Romina", "Daiana",
    "Natalia", "Gabriela", "Verónica", "Mariela", "Rocío", "Noelia", "Paula", "Brenda",
)
_AR_MALE = (
    "Juan", "Carlos", "Jorge", "José", "Luis", "Miguel", "Roberto", "Daniel", "Héctor",
    "Ricardo", "Sergio", "Diego", "Gustavo", "Marcelo", "Pablo", "Martín", "Fernando",
    "Hernán", "Matías", "Nicolás", "Facundo", "Lucas", "Gonzalo", "Maximiliano", "Ezequiel",
    "Leandro", "Sebastián", "Cristian", "Walter", "Raúl", "Rubén", "Oscar", "Alejandro",
    "Julián",
)
_AR_FEMALE_2 = (
    "Beatriz", "Inés", "Soledad", "Belén", "Alejandra", "Elena", "Victoria", "Isabel",
    "del Carmen", "Luján",
)
_AR_MALE_2 = (
    "Alberto", "Antonio", "Ignacio", "Manuel", "Ramón", "Ángel", "Emiliano", "Andrés",
    "Esteban", "Tomás",
)
_AR_SURNAMES = (
    "González", "Rodríguez", "Gómez", "Fernández", "López", "Díaz", "Martínez", "Pérez",
    "García", "Sánchez", "Romero", "Sosa", "Torres", "Álvarez", "Ruiz", "Ramírez", "Flores",
    "Benítez", "Acosta", "Medina", "Herrera", "Suárez", "Aguirre", "Giménez", "Gutiérrez",
    "Pereyra", "Rojas", "Molina", "Castro", "Ortiz", "Silva", "Núñez", "Luna", "Juárez",
    "Cabrera", "Ríos", "Ferreyra", "Godoy", "Morales", "Domínguez", "Moreno", "Peralta",
    "Vega", "Carrizo", "Quiroga", "Castillo", "Ledesma", "Muñoz", "Ojeda", "Vera", "Paz",
    "Rossi", "Russo", "Ferrari",
)

# --------------------------------------------------------------------------------------------
# Places. CR: canton -> (province digit of the cédula, districts). PH: municipalities.
# BR: municipality -> (phone area code, CPF fiscal-region digit). AR: city -> phone area code
# (area code + subscriber number = 10 digits).
# --------------------------------------------------------------------------------------------

_CR_CANTONS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("San Carlos", 2, ("Quesada", "Florencia", "Aguas Zarcas", "Pital", "Venecia",
                       "La Fortuna", "Pocosol", "Cutris", "Santa Rosa", "La Palmera")),
    ("Pérez Zeledón", 1, ("San Isidro de El General", "Daniel Flores", "Rivas", "Platanares",
                          "Pejibaye", "Páramo", "Barú", "Cajón", "General Viejo")),
    ("Upala", 2, ("Upala", "Aguas Claras", "Bijagua", "Delicias", "Dos Ríos", "Yolillal",
                  "Canalete")),
    ("Los Chiles", 2, ("Los Chiles", "Caño Negro", "El Amparo", "San Jorge")),
    ("Turrialba", 3, ("Turrialba", "La Suiza", "Peralta", "Santa Cruz", "Santa Teresita",
                      "Pavones", "Tuis", "Tayutic", "Santa Rosa", "Tres Equis", "La Isabel")),
    ("Naranjo", 2, ("Naranjo", "San Miguel", "Cirrí Sur", "San Jerónimo", "San Juan",
                    "El Rosario", "Palmitos")),
    ("Coto Brus", 6, ("San Vito", "Sabalito", "Aguabuena", "Limoncito", "Pittier",
                      "Gutiérrez Braun")),
    ("Tarrazú", 1, ("San Marcos", "San Lorenzo", "San Carlos")),
    ("Dota", 1, ("Santa María", "Jardín", "Copey")),
    ("León Cortés", 1, ("San Pablo", "San Andrés", "Llano Bonito", "San Isidro", "Santa Cruz",
                        "San Antonio")),
    ("Buenos Aires", 6, ("Buenos Aires", "Volcán", "Potrero Grande", "Boruca", "Pilas",
                         "Colinas", "Chánguena", "Biolley")),
    ("Guatuso", 2, ("San Rafael", "Buenavista", "Cote", "Katira")),
    ("Sarapiquí", 4, ("Puerto Viejo", "La Virgen", "Las Horquetas", "Llanuras del Gaspar",
                      "Cureña")),
    ("Nicoya", 5, ("Nicoya", "Mansión", "San Antonio", "Quebrada Honda", "Sámara", "Nosara")),
    ("Talamanca", 7, ("Bratsi", "Sixaola", "Cahuita", "Telire")),
    ("Pococí", 7, ("Guápiles", "Jiménez", "La Rita", "Roxana", "Cariari", "Colorado")),
    ("Grecia", 2, ("Grecia", "San Isidro", "San José", "San Roque", "Tacares", "Puente de Piedra",
                   "Bolívar")),
    ("Puriscal", 1, ("Santiago", "Mercedes Sur", "Barbacoas", "Grifo Alto", "San Rafael",
                     "Candelarita", "Desamparaditos", "San Antonio", "Chires")),
    ("Acosta", 1, ("San Ignacio", "Guaitil", "Palmichal", "Cangrejal", "Sabanillas")),
    ("Osa", 6, ("Puerto Cortés", "Palmar", "Sierpe", "Bahía Ballena", "Piedras Blancas")),
    ("Zarcero", 2, ("Zarcero", "Laguna", "Tapesco", "Guadalupe", "Palmira", "Brisas")),
)
_PH_MUNICIPALITIES = (
    "Bayombong", "Solano", "Bambang", "Aritao", "Kayapa", "Tagum", "Panabo", "Carmen",
    "Asuncion", "New Corella", "Santo Tomas", "Valencia City", "Malaybalay", "Maramag",
    "Don Carlos", "Manolo Fortich", "Cabanatuan", "Guimba", "Talavera", "Muñoz", "Pototan",
    "Passi", "Dumangas", "Ormoc", "Palo", "Baybay", "Ubay", "Talibon", "Pili", "Iriga",
    "Sariaya", "Tayabas", "Kabankalan", "Himamaylan", "Kidapawan", "Midsayap", "Urdaneta",
    "Lingayen", "Cauayan", "Ilagan", "Santiago City", "Roxas",
)
_PH_BARANGAYS = (
    "San Isidro", "Poblacion", "San Jose", "San Roque", "Santo Niño", "San Antonio",
    "Bagong Silang", "Mabini", "Rizal", "Malvar", "San Vicente", "Santa Cruz", "Magsaysay",
    "Bonifacio", "Del Pilar", "Quezon", "San Juan", "Santa Maria", "San Miguel", "Mabuhay",
    "Maligaya", "Bagumbayan", "San Pedro", "Lourdes", "Burgos", "Luna", "Aguinaldo",
    "San Nicolas", "Cabuyao", "Tabing Ilog",
)
_PH_SITIOS = ("Malinis", "Riverside", "Centro", "Ilaya", "Ibaba", "Proper", "Crossing", "Hilltop")
_PH_MOBILE_PREFIXES = (
    "917", "918", "919", "920", "921", "922", "926", "927", "928", "929", "935", "936", "945",
    "947", "948", "949", "950", "951", "955", "956", "961", "965", "966", "975", "977", "995",
    "996", "997", "998", "999",
)
_BR_MUNICIPALITIES: tuple[tuple[str, str, int], ...] = (
    ("Juazeiro", "74", 5), ("Petrolina", "87", 4), ("Feira de Santana", "75", 5),
    ("Caruaru", "81", 4), ("Imperatriz", "99", 3), ("Santarém", "93", 2), ("Marabá", "94", 2),
    ("Chapecó", "49", 9), ("Passo Fundo", "54", 0), ("Ilhéus", "73", 5), ("Mossoró", "84", 4),
    ("Campina Grande", "83", 4), ("Montes Claros", "38", 6), ("Uberlândia", "34", 6),
    ("Rondonópolis", "66", 1), ("Cascavel", "45", 9), ("Garanhuns", "87", 4),
    ("Sobral", "88", 3), ("Crato", "88", 3), ("Parintins", "92", 2),
)
_BR_STREETS = (
    "Rua São José", "Rua Sete de Setembro", "Rua Tiradentes", "Avenida Brasil",
    "Rua Santa Luzia", "Rua Quinze de Novembro", "Travessa Boa Vista", "Rua das Flores",
    "Rua Padre Cícero", "Rua Dom Pedro II", "Rua Rui Barbosa", "Avenida Getúlio Vargas",
)
_BR_NEIGHBOURHOODS = (
    "Centro", "São José", "Santa Luzia", "Vila Nova", "Boa Vista", "Jardim América",
    "Alto Alegre", "Industrial", "Bela Vista", "Planalto",
)
_AR_CITIES: tuple[tuple[str, str], ...] = (
    ("Florencio Varela", "11"), ("La Matanza", "11"), ("Merlo", "11"), ("Moreno", "11"),
    ("José C. Paz", "11"), ("Quilmes", "11"), ("Lomas de Zamora", "11"), ("Rosario", "341"),
    ("Córdoba", "351"), ("San Miguel de Tucumán", "381"), ("Santiago del Estero", "385"),
    ("San Salvador de Jujuy", "388"), ("Salta", "387"), ("Posadas", "376"), ("Oberá", "3755"),
    ("Resistencia", "362"), ("Concordia", "345"), ("Goya", "3777"), ("Villa María", "353"),
    ("Río Cuarto", "358"), ("Mendoza", "261"),
)
_AR_STREETS = (
    "San Martín", "Belgrano", "Rivadavia", "Sarmiento", "Mitre", "25 de Mayo", "9 de Julio",
    "Moreno", "Alberdi", "Italia", "Güemes", "Lavalle", "Las Heras", "Pueyrredón",
)
_AR_BARRIOS = (
    "Centro", "San Cayetano", "Villa del Parque", "Obrero", "Los Aromos",
    "Villa Esperanza", "San Francisco", "El Progreso",
)
_CR_LANDMARKS = (
    "la escuela", "la iglesia católica", "la plaza de deportes", "el EBAIS", "el salón comunal",
    "la pulpería", "el puente", "el colegio", "el cementerio", "la delegación",
    "el templo evangélico", "la parada de buses", "el beneficio", "la bomba",
)
_CR_DISTANCES = ("25", "50", "75", "100", "100", "150", "200", "200", "300", "400", "500", "800")
_DIRS = ("norte", "sur", "este", "oeste")
_CROSS = {"norte": ("este", "oeste"), "sur": ("este", "oeste"),
          "este": ("norte", "sur"), "oeste": ("norte", "sur")}

# --------------------------------------------------------------------------------------------
# Work
# --------------------------------------------------------------------------------------------

_SECTOR_WEIGHTS: dict[str, dict[str, float]] = {
    "CR": {"agriculture": 62, "fishing": 6, "crafts": 5, "street_vending": 5,
           "home_based_work": 5, "domestic_work": 5, "transport": 4, "care": 3,
           "arts_and_culture": 2, "platform_work": 1, "waste_picking": 1, "other": 1},
    "PH": {"agriculture": 30, "fishing": 15, "street_vending": 17, "home_based_work": 12,
           "transport": 8, "domestic_work": 5, "waste_picking": 4, "crafts": 3, "care": 2,
           "platform_work": 2, "arts_and_culture": 1, "other": 1},
    "BR": {"agriculture": 20, "street_vending": 15, "waste_picking": 15, "domestic_work": 12,
           "platform_work": 8, "home_based_work": 8, "transport": 7, "crafts": 5, "care": 4,
           "fishing": 3, "arts_and_culture": 2, "other": 1},
    "AR": {"agriculture": 15, "street_vending": 15, "waste_picking": 12, "domestic_work": 12,
           "home_based_work": 10, "care": 10, "platform_work": 8, "transport": 7, "crafts": 5,
           "arts_and_culture": 3, "fishing": 2, "other": 1},
}
_GENERIC_OCCUPATIONS: dict[str, tuple[str, ...]] = {
    "fishing": ("Fisher", "Fisher", "Fisher", "Fish farmer"),
    "crafts": ("Artisan", "Potter", "Weaver", "Woodworker", "Leather worker"),
    "street_vending": ("Vendor", "Market vendor", "Street food vendor", "Fruit vendor"),
    "home_based_work": ("Dressmaker", "Baker", "Home-based food producer", "Hairdresser"),
    "domestic_work": ("Domestic worker", "Housekeeper", "Cook", "Laundress"),
    "transport": ("Taxi driver", "Motorcycle courier", "Truck driver"),
    "care": ("Caregiver", "Childminder", "Community health worker"),
    "arts_and_culture": ("Musician", "Dancer", "Street performer", "Painter"),
    "platform_work": ("Delivery rider", "Ride-hailing driver"),
    "waste_picking": ("Waste picker", "Recycling collector", "Recycling sorter"),
    "other": ("Construction worker", "Mechanic", "Security guard", "Carpenter"),
}
_OCCUPATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "CR": {**_GENERIC_OCCUPATIONS,
           "agriculture": ("Coffee grower", "Coffee grower", "Coffee grower", "Dairy farmer",
                           "Cattle rancher", "Pineapple grower", "Sugarcane grower",
                           "Vegetable grower", "Bean farmer", "Cassava grower", "Cocoa grower",
                           "Plantain grower", "Farm labourer", "Beekeeper"),
           "fishing": ("Fisher", "Fisher", "Fisher", "Shellfish gatherer", "Fish farmer"),
           "street_vending": ("Vendor", "Market vendor", "Lottery ticket seller",
                              "Street food vendor"),
           "transport": ("Taxi driver", "Informal taxi driver", "Motorcycle courier")},
    "PH": {**_GENERIC_OCCUPATIONS,
           "agriculture": ("Rice farmer", "Rice farmer", "Rice farmer", "Corn farmer",
                           "Coconut farmer", "Banana farmer", "Vegetable grower",
                           "Sugarcane farmer", "Farm worker", "Hog raiser", "Poultry raiser",
                           "Abaca farmer", "Coffee farmer"),
           "fishing": ("Fisher", "Fisher", "Fisher", "Seaweed farmer", "Fishpond caretaker"),
           "street_vending": ("Vendor", "Market vendor", "Fish vendor", "Fruit vendor",
                              "Street food vendor", "Balut vendor"),
           "home_based_work": ("Sari-sari store owner", "Dressmaker", "Food processor",
                               "Home-based garment worker", "Rice cake maker"),
           "transport": ("Tricycle driver", "Tricycle driver", "Jeepney driver",
                         "Habal-habal driver", "Pedicab driver"),
           "domestic_work": ("Household helper", "Laundry worker", "Cook"),
           "waste_picking": ("Waste picker", "Junk shop collector"),
           "crafts": ("Weaver", "Basket maker", "Furniture maker", "Mat weaver"),
           "care": ("Caregiver", "Barangay health worker", "Day care worker"),
           "platform_work": ("Delivery rider", "Online seller"),
           "arts_and_culture": ("Musician", "Performer", "Sign painter"),
           "other": ("Construction worker", "Carpenter", "Mason")},
    "BR": {**_GENERIC_OCCUPATIONS,
           "agriculture": ("Family farmer", "Family farmer", "Cassava grower", "Coffee grower",
                           "Bean farmer", "Cashew grower", "Goat farmer", "Rubber tapper",
                           "Farm labourer"),
           "transport": ("Mototaxi driver", "Taxi driver", "Van driver")},
    "AR": {**_GENERIC_OCCUPATIONS,
           "agriculture": ("Family farmer", "Vegetable grower", "Yerba mate grower",
                           "Tobacco grower", "Goat herder", "Fruit picker", "Cotton grower"),
           "transport": ("Remis driver", "Taxi driver", "Motorcycle courier")},
}
# (minimum, maximum, rounding step) of the monthly declared income
_INCOME: dict[str, tuple[int, int, int]] = {
    "CR": (120_000, 450_000, 1_000), "PH": (6_000, 25_000, 100),
    "BR": (1_200, 3_500, 10), "AR": (150_000, 600_000, 1_000),
}
_ID_TYPES = {"CR": "cr_cedula", "PH": "local", "BR": "br_cpf", "AR": "ar_cuil"}
# How many dependants: 0..4
_DEPENDANT_CUM = (0.28, 0.55, 0.77, 0.91, 1.0)

# --------------------------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------------------------


def _cr_cedula(rng: random.Random, province: int) -> str:
    # 0P-TTTT-AAAA; "tomo" and "asiento" are never 0000.
    r = rng.random
    return f"0{province}{1 + int(r() * 9999):04d}{1 + int(r() * 9999):04d}"


def _ph_psn(rng: random.Random) -> str:
    return str(100_000_000_000 + int(rng.random() * 900_000_000_000))


def _br_cpf(rng: random.Random, region: int) -> str:
    # The 9th digit is the fiscal region that issued the number; then two mod-11 check digits.
    r = rng.random
    while True:
        base = f"{int(r() * 100_000_000):08d}{region}"
        if base.count(base[0]) == 9:  # 111.111.111-11 and the like are rejected in practice
            continue
        d = base.encode()  # ASCII codes: subtract 48 times the sum of the weights
        s1 = 10 * d[0] + 9 * d[1] + 8 * d[2] + 7 * d[3] + 6 * d[4] + 5 * d[5] + 4 * d[6] \
            + 3 * d[7] + 2 * d[8] - 48 * 54
        d1 = (11 - s1) % 11 % 10
        s2 = 11 * d[0] + 10 * d[1] + 9 * d[2] + 8 * d[3] + 7 * d[4] + 6 * d[5] + 5 * d[6] \
            + 4 * d[7] + 3 * d[8] - 48 * 63 + 2 * d1
        d2 = (11 - s2) % 11 % 10
        return f"{base}{d1}{d2}"


def _ar_dni_for_year(rng: random.Random, birth_year: int) -> int:
    # DNI numbers roughly follow the year of birth (about 11 M for 1955, 39 M for 1995).
    millions = 11 + 0.7 * (birth_year - 1955) if birth_year >= 1955 \
        else max(2.0, 11 - 0.6 * (1955 - birth_year))
    dni = int((millions + (rng.random() - 0.5) * 2.4) * 1_000_000)
    return min(max(dni, 1_000_000), 99_999_999)


def _ar_cuil(rng: random.Random, female: bool, birth_year: int) -> str:
    prefix = "27" if female else "20"
    # weights 5,4 for the prefix digits, then 3,2,7,6,5,4,3,2 for the DNI
    head = 5 * int(prefix[0]) + 4 * int(prefix[1])
    while True:
        dni = f"{_ar_dni_for_year(rng, birth_year):08d}"
        d = dni.encode()  # ASCII codes: subtract 48 times the sum of the weights (32)
        total = head + 3 * d[0] + 2 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] \
            + 3 * d[6] + 2 * d[7] - 48 * 32
        check = 11 - total % 11
        if check == 10:  # AFIP would switch to prefix 23; skip the candidate instead
            continue
        return f"{prefix}{dni}{0 if check == 11 else check}"


def valid_id(country: str, rng: random.Random) -> tuple[str, str]:
    """(id_type, compact id_number) valid for the country."""
    country = country.upper()
    if country == "CR":
        return "cr_cedula", _cr_cedula(rng, 1 + int(rng.random() * 7))
    if country == "PH":
        return "local", _ph_psn(rng)
    if country == "BR":
        return "br_cpf", _br_cpf(rng, int(rng.random() * 10))
    if country == "AR":
        return "ar_cuil", _ar_cuil(rng, rng.random() < 0.5, 1946 + int(rng.random() * 63))
    raise ValueError(f"unsupported country {country!r}; expected one of {COUNTRIES}")


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _cumulative(weights: dict[str, float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    total = sum(weights.values())
    acc, cum = 0.0, []
    for w in weights.values():
        acc += w / total
        cum.append(acc)
    cum[-1] = 1.0
    return tuple(weights), tuple(cum)


def people(country: str, count: int, seed: int = 0, today: date | None = None) -> Iterator[Person]:
    """Yields `count` distinct people (unique id_number within the call), deterministic for
    (country, seed)."""
    country = country.upper()
    if country not in COUNTRIES:
        raise ValueError(f"unsupported country {country!r}; expected one of {COUNTRIES}")
    if count < 0:
        raise ValueError("count must not be negative")
    today = today or DEFAULT_TODAY
    rng = random.Random(seed)
    r = rng.random

    def pick(seq: Sequence[str]) -> str:
        return seq[int(r() * len(seq))]

    def zipf(seq: Sequence[str]) -> str:  # earlier entries are more common
        return seq[int(len(seq) * r() ** 1.6)]

    is_cr, is_ph, is_br = country == "CR", country == "PH", country == "BR"
    female_first, male_first, female_2, male_2, surnames = {
        "CR": (_CR_FEMALE, _CR_MALE, _CR_FEMALE_2, _CR_MALE_2, _CR_SURNAMES),
        "PH": (_PH_FEMALE, _PH_MALE, (), (), _PH_SURNAMES),
        "BR": (_BR_FEMALE, _BR_MALE, _BR_FEMALE_2, _BR_MALE_2, _BR_SURNAMES),
        "AR": (_AR_FEMALE, _AR_MALE, _AR_FEMALE_2, _AR_MALE_2, _AR_SURNAMES),
    }[country]
    second_given_share = {"CR": 0.35, "BR": 0.3, "AR": 0.25, "PH": 0.0}[country]
    two_surnames = country in ("CR", "AR")
    id_type = _ID_TYPES[country]
    sectors, sector_cum = _cumulative(_SECTOR_WEIGHTS[country])
    occupations = _OCCUPATIONS[country]
    inc_lo, inc_hi, inc_step = _INCOME[country]
    inc_steps = (inc_hi - inc_lo) // inc_step

    today_ord = today.toordinal()
    youngest_ord = _add_years(today, -18).toordinal()  # turned 18 today at the latest
    oldest_ord = _add_years(today, -81).toordinal() + 1  # not yet 81
    span = youngest_ord - oldest_ord
    earliest_join = min(_EARLIEST_JOIN, today)
    y18, y40 = int(18 * _YEAR), int(40 * _YEAR)
    y45, y95 = int(45 * _YEAR), int(95 * _YEAR)
    fromordinal = date.fromordinal

    def given(female: bool) -> str:
        return zipf(female_first if female else male_first)

    seen: set[str] = set()
    for _ in range(count):
        female = r() < 0.5
        sex = "female" if female else "male"

        # Age: triangular between 18 and 80, most common around 38.
        u = r()
        x = (u * 0.32) ** 0.5 if u < 0.32 else 1 - ((1 - u) * 0.68) ** 0.5
        dob_ord = youngest_ord - int(x * span)
        dob = fromordinal(dob_ord)

        # Place, ID and phone
        if is_cr:
            locality, province, districts = pick(_CR_CANTONS)
            district = pick(districts)
            d1 = pick(_DIRS)
            if r() < 0.35:
                address = (f"{pick(_CR_DISTANCES)} m {d1} y {pick(_CR_DISTANCES)} m "
                           f"{pick(_CROSS[d1])} de {pick(_CR_LANDMARKS)}, {district}")
            else:
                address = f"{pick(_CR_DISTANCES)} m {d1} de {pick(_CR_LANDMARKS)}, {district}"
            prov = province if r() < 0.8 else 1 + int(r() * 7)
            while (id_number := _cr_cedula(rng, prov)) in seen:
                pass
            lead = "8" if r() < 0.55 else ("6" if r() < 0.6 else "7")
            phone = f"+506{lead}{int(r() * 10_000_000):07d}"
        elif is_ph:
            locality = pick(_PH_MUNICIPALITIES)
            purok = 1 + int(r() * 9)
            barangay = pick(_PH_BARANGAYS)
            if r() < 0.25:
                address = f"Sitio {pick(_PH_SITIOS)}, Purok {purok}, Barangay {barangay}"
            else:
                address = f"Purok {purok}, Barangay {barangay}"
            while (id_number := _ph_psn(rng)) in seen:
                pass
            phone = f"+63{pick(_PH_MOBILE_PREFIXES)}{int(r() * 10_000_000):07d}"
        elif is_br:
            locality, ddd, region = pick(_BR_MUNICIPALITIES)
            address = (f"{pick(_BR_STREETS)}, {1 + int(r() * 1999)}, "
                       f"{pick(_BR_NEIGHBOURHOODS)}")
            if r() >= 0.85:  # moved from elsewhere
                region = int(r() * 10)
            while (id_number := _br_cpf(rng, region)) in seen:
                pass
            phone = f"+55{ddd}9{int(r() * 100_000_000):08d}"
        else:
            locality, area = pick(_AR_CITIES)
            address = f"{pick(_AR_STREETS)} {1 + int(r() * 3999)}, Barrio {pick(_AR_BARRIOS)}"
            while (id_number := _ar_cuil(rng, female, dob.year)) in seen:
                pass
            digits = 10 - len(area)
            phone = f"+54{area}{int(r() * 10 ** digits):0{digits}d}"
        seen.add(id_number)

        # Name
        first = given(female)
        if is_ph:
            last = zipf(surnames)
            while (middle := zipf(surnames)) == last:
                pass
            second_last = None
        else:
            middle = None
            if r() < second_given_share:
                while (middle := pick(female_2 if female else male_2)) == first:
                    pass
            last = zipf(surnames)
            second_last = zipf(surnames) if two_surnames else None

        # Work and money
        sector = sectors[bisect(sector_cum, r())]
        occupation = pick(occupations[sector])
        income = inc_lo + inc_step * int(inc_steps * r() ** 1.4 + 0.5)

        # Joined between the 18th birthday (or 2005) and today, more often recently.
        join_lo = max(_add_years(dob, 18), earliest_join).toordinal()
        joined_on = fromordinal(today_ord - int((today_ord - join_lo + 1) * r() ** 1.5))

        # Dependants
        dependants: list[tuple[str, str, date]] = []
        wanted = bisect(_DEPENDANT_CUM, r())
        if wanted:
            spouse_last: str | None = None
            spouse_middle: str | None = None
            if dob_ord <= today_ord - 20 * 365 and r() < 0.7:
                shift = (r() + r() - 1) * 8 * _YEAR + (-1.5 if female else 1.5) * _YEAR
                s_ord = min(max(int(dob_ord + shift), today_ord - y95), youngest_ord)
                s_first = given(not female)
                if is_ph:  # the couple share the husband's surname
                    spouse_middle = zipf(surnames)
                    spouse_last = last
                    s_name = f"{s_first} {spouse_middle} {last}"
                elif is_br:
                    spouse_last = zipf(surnames)
                    s_name = f"{s_first} {spouse_last}" if female else \
                        f"{s_first} {spouse_last} {last}"
                else:
                    spouse_last = zipf(surnames)
                    s_name = f"{s_first} {spouse_last} {zipf(surnames)}"
                dependants.append((s_name, "spouse", fromordinal(s_ord)))
            c_lo, c_hi = dob_ord + y18, min(dob_ord + y40, today_ord - 1)
            children: list[tuple[str, str, date]] = []
            other = spouse_last or zipf(surnames)  # the other parent's surname
            while len(dependants) + len(children) < wanted and c_lo <= c_hi \
                    and (not children or r() < 0.85):
                c_female = r() < 0.5
                c_first = given(c_female)
                if is_ph:
                    mother_maiden = middle if female else (spouse_middle or zipf(surnames))
                    c_name = f"{c_first} {mother_maiden} {last}"
                elif is_br:
                    c_name = f"{c_first} {other if female else last}"
                else:
                    c_name = f"{c_first} {other} {last}" if female else \
                        f"{c_first} {last} {other}"
                children.append((c_name, "child", fromordinal(c_lo + int(r() * (c_hi - c_lo)))))
            children.sort(key=lambda c: c[2])
            dependants.extend(children)
            if len(dependants) < wanted:
                p_ord = dob_ord - y18 - int(r() * (y45 - y18))
                if p_ord >= today_ord - y95:
                    mother = r() < 0.6
                    p_first = given(mother)
                    if is_ph:  # a mother's middle name is her maiden surname
                        p_name = f"{p_first} {middle if mother else zipf(surnames)} {last}"
                    elif is_br:
                        p_name = f"{p_first} {zipf(surnames)} {last}"
                    elif mother and second_last:
                        p_name = f"{p_first} {second_last} {zipf(surnames)}"
                    else:
                        p_name = f"{p_first} {last} {zipf(surnames)}"
                    dependants.append((p_name, "parent", fromordinal(p_ord)))

        yield Person(
            first_name=first,
            middle_name=middle,
            last_name=last,
            second_last_name=second_last,
            sex=sex,
            date_of_birth=dob,
            id_type=id_type,
            id_number=id_number,
            phone=phone,
            address=address,
            locality=locality,
            sector=sector,
            occupation=occupation,
            declared_income=income,
            joined_on=joined_on,
            dependants=tuple(dependants),
        )

