"""The demo schemes' texts for members (the awareness sheet): what each scheme gives and how
to claim it, as a cooperative would type them — in Spanish for the Costa Rican and Argentine
cooperatives, in English for the Philippine one. Phone numbers and addresses are made up."""

from __future__ import annotations

# the office, printed at the top of the documents for members
COOPERATIVE_CONTACTS = {
    "CRAGRO": "De la iglesia de San Marcos de Tarrazú 100 m al sur · Tel. 2546-0000 · "
              "lunes a viernes, 7:00 a 16:00",
    "PHCOOP": "Barangay hall annex, Poblacion · Mobile 0917 000 0000 · Monday to Saturday, "
              "8 am to 5 pm",
    "ARCOOP": "Av. Provincial 1234, San Justo, La Matanza · Tel. 11 4651-0000 · lunes a "
              "viernes, 9 a 17 h",
}

# (cooperative code, scheme name) → (what members get, how to claim)
SCHEME_TEXTS: dict[tuple[str, str], tuple[str, str]] = {
    ("CRAGRO", "Seguro de Salud"): (
        "Atención médica en el EBAIS, las clínicas y los hospitales de la Caja: consultas, "
        "exámenes, medicamentos, cirugías y hospitalización, sin pagar en la ventanilla.\n"
        "Incapacidad por enfermedad: un subsidio en dinero mientras el médico de la Caja le "
        "indique reposo, calculado sobre el ingreso por el que cotiza.\n"
        "Maternidad: control prenatal, parto y licencia con subsidio.\n"
        "Su cónyuge o pareja y sus hijos menores quedan protegidos como beneficiarios "
        "familiares cuando los inscribe.",
        "1. Vaya a su EBAIS con su cédula de identidad: la Caja revisa en línea que usted "
        "esté asegurado.\n"
        "2. Si el médico le da una incapacidad, entregue la boleta en la oficina de la "
        "cooperativa en los tres días hábiles siguientes.\n"
        "3. Para inscribir a su familia, traiga a la cooperativa la cédula de cada persona y "
        "la constancia de matrimonio, unión de hecho o nacimiento.\n"
        "4. Esté al día con sus cuotas de cosecha: si se atrasa, la Caja puede suspender la "
        "cobertura.\n"
        "Dudas: oficina de la cooperativa, de la iglesia 100 m al sur, lunes a viernes de "
        "7:00 a 16:00. Teléfono 2546-0000, WhatsApp 8800-0000."),
    ("CRAGRO", "Invalidez, Vejez y Muerte"): (
        "Pensión por vejez al cumplir la edad y el número de cuotas que pide la Caja.\n"
        "Pensión por invalidez si una enfermedad o un accidente le impide seguir trabajando.\n"
        "Pensión para su viuda o viudo y sus hijos si usted fallece.\n"
        "Cada cuota pagada a tiempo por medio de la cooperativa cuenta para su pensión.",
        "1. Pida en la cooperativa su estado de cuotas (cuántas cuotas lleva pagadas).\n"
        "2. Pensión por vejez: pida cita en la sucursal de la Caja más cercana y lleve su "
        "cédula y el estado de cuotas.\n"
        "3. Invalidez: lleve el dictamen de su médico; la comisión calificadora de la Caja le "
        "dará cita para valorarlo.\n"
        "4. Sobrevivientes: la familia lleva el acta de defunción, las cédulas y las "
        "constancias de parentesco; la cooperativa le ayuda a llenar la solicitud.\n"
        "Teléfono de la cooperativa: 2546-0000."),
    ("PHCOOP", "National Health Insurance Program"): (
        "Hospital care in accredited hospitals: room and board, medicines, laboratory tests "
        "and doctors' fees are deducted from your bill.\n"
        "Outpatient care: primary care consultations, day surgery, dialysis and TB "
        "treatment packages.\n"
        "Maternity: prenatal check-ups and delivery (normal or caesarean) in accredited "
        "birthing homes and hospitals.\n"
        "Your qualified dependants are covered too: spouse, children under 21 and parents "
        "aged 60 or more.",
        "1. When you are admitted, tell the hospital you are a PhilHealth member and show "
        "your PhilHealth ID or number.\n"
        "2. Bring one valid ID and your Member Data Record; the hospital files the claim and "
        "deducts the benefit from your bill.\n"
        "3. Your contributions must be paid for the months before you are confined: ask the "
        "cooperative's treasurer for your statement.\n"
        "4. If you had to pay in full, keep the official receipt and bring it to the "
        "cooperative within 60 days: we help you file the claim.\n"
        "Cooperative office: Barangay hall annex, Monday to Saturday, 8 am to 5 pm. "
        "Mobile 0917 000 0000."),
}
