//! The master batch record of each product type, step by step, as a QA person of a cell
//! therapy unit would write it. The steps follow the usual shape of each process (EU GMP Part
//! IV §6.x and §11: reception of the starting material, isolation, expansion, harvest,
//! formulation, filling or cryopreservation), with the in-process controls a unit records at
//! each one; the limits are plausible, not any one unit's validated ones.

use rust_decimal::Decimal;
use traza_domain::mbr::{MbrMaterial, MbrParameter, MbrStep};
use traza_domain::network::Product;
use traza_domain::vocab::{AtmpClass, RoomGrade};

use super::catalogue::stock_of;

/// The demo writes its own literals: a typo is a bug of the demo, found at its first run.
fn d(text: &str) -> Decimal {
    text.parse()
        .unwrap_or_else(|_| panic!("demo decimal {text}"))
}

/// A step under construction.
struct Step(MbrStep);

fn step(code: &str, title: &str, grade: RoomGrade, instructions: &str) -> Step {
    Step(MbrStep {
        code: code.into(),
        title: title.into(),
        instructions: instructions.into(),
        room_grade: Some(grade),
        verification_required: false,
        parameters: Vec::new(),
        materials: Vec::new(),
        equipment: Vec::new(),
    })
}

/// Which side of a parameter's limits are set.
enum Limit {
    Range(&'static str, &'static str),
    AtLeast(&'static str),
    AtMost(&'static str),
    Word(&'static str),
}

impl Step {
    /// A second person checks it (every step with a critical control, and the identity
    /// checks at reception and labelling).
    fn verified(mut self) -> Step {
        self.0.verification_required = true;
        self
    }

    fn param(mut self, name: &str, unit: &str, limit: Limit, critical: bool) -> Step {
        let (min, max, expected) = match limit {
            Limit::Range(min, max) => (Some(d(min)), Some(d(max)), None),
            Limit::AtLeast(min) => (Some(d(min)), None, None),
            Limit::AtMost(max) => (None, Some(d(max)), None),
            Limit::Word(w) => (None, None, Some(w.to_owned())),
        };
        self.0.parameters.push(MbrParameter {
            name: name.into(),
            unit: unit.into(),
            min,
            max,
            expected,
            critical,
        });
        self
    }

    /// A critical control: out of its limits, it raises a critical exception and a deviation.
    fn critical(self, name: &str, unit: &str, limit: Limit) -> Step {
        self.param(name, unit, limit, true)
    }

    fn control(self, name: &str, unit: &str, limit: Limit) -> Step {
        self.param(name, unit, limit, false)
    }

    fn uses(mut self, material: &str, quantity: &str) -> Step {
        let unit = stock_of(material).map_or("", |s| s.unit);
        self.0.materials.push(MbrMaterial {
            material_code: material.into(),
            quantity: d(quantity),
            unit: unit.into(),
        });
        self
    }

    fn with(mut self, classes: &[&str]) -> Step {
        self.0.equipment = classes.iter().map(|c| (*c).to_owned()).collect();
        self
    }
}

use Limit::{AtLeast, AtMost, Range, Word};

/// Equipment classes, as the laboratories register them.
pub const CABINET: &str = "biosafety_cabinet";
pub const INCUBATOR: &str = "co2_incubator";
pub const CENTRIFUGE: &str = "centrifuge";
pub const COUNTER: &str = "cell_counter";
pub const FREEZER: &str = "controlled_rate_freezer";

const CELLS: &str = "x10^6 células";

fn reception(what: &str, hours: &'static str, cold: bool) -> Step {
    let s = step(
        "recepcion",
        &format!("Recepción {what}"),
        RoomGrade::D,
        "Comprobar la identificación del donante o paciente en la etiqueta y en la hoja de extracción (código de donación), la integridad del envase y la temperatura del contenedor. Registrar la hora de llegada y trasladar el material de partida a la sala de producción.",
    )
    .verified()
    .critical("Tiempo desde la extracción", "h", AtMost(hours));
    if cold {
        s.critical("Temperatura a la llegada", "°C", Range("2", "8"))
    } else {
        s.control("Temperatura a la llegada", "°C", Range("2", "25"))
    }
}

fn passage(code: &str, n: u32, scale: u32) -> Step {
    let q = |base: u32| (base * scale).to_string();
    step(
        code,
        &format!("Expansión: pase {n} con TrypLE"),
        RoomGrade::B,
        "Despegar las células con TrypLE Select (5 min a 37 °C), neutralizar con medio, centrifugar a 400 g 5 min, contar y resembrar a 4.000 células/cm² en medio con un 10 % de lisado plaquetario.",
    )
    .verified()
    .with(&[CABINET, CENTRIFUGE, COUNTER, INCUBATOR])
    .uses("ENZ-TRYPLE", &q(10))
    .uses("MED-ALFA-MEM", &q(225))
    .uses("SUP-LPH", &q(25))
    .uses("CON-FRASCO-T175", &q(5))
    .control("Confluencia al pase", "%", Range("70", "90"))
    .critical("Viabilidad", "%", AtLeast("70"))
    .control("Células recogidas", CELLS, AtLeast(if n == 1 { "20" } else { "60" }))
}

fn cryopreservation() -> [Step; 2] {
    [
        step(
            "formulacion",
            "Formulación en solución de criopreservación",
            RoomGrade::B,
            "Resuspender el sedimento celular en albúmina humana al 20 % fría y añadir el DMSO gota a gota en agitación suave hasta la concentración final.",
        )
        .verified()
        .with(&[CABINET])
        .uses("ALB-HUMANA-20", "20")
        .uses("CRIO-DMSO", "4")
        .critical("Concentración de DMSO", "%", Range("9", "11"))
        .control("Concentración celular", "x10^6 células/mL", Range("2", "10")),
        step(
            "criopreservacion",
            "Llenado de bolsas y congelación en rampa controlada",
            RoomGrade::C,
            "Llenar las bolsas por conexión estéril, sellar, etiquetar con el número de lote y congelar con el programa validado (−1 °C/min hasta −80 °C); trasladar a la fase de vapor de nitrógeno líquido.",
        )
        .verified()
        .with(&[FREEZER])
        .uses("CON-BOLSA-CRIO", "2")
        .critical("Tiempo desde la adición de DMSO", "min", AtMost("30"))
        .control("Bolsas llenadas", "unidades", Range("1", "4")),
    ]
}

fn conditioning(container: &str) -> Step {
    step(
        "acondicionamiento",
        "Etiquetado y acondicionamiento para el transporte",
        RoomGrade::C,
        container,
    )
    .verified()
    .critical(
        "Identificación del paciente y del lote",
        "",
        Word("conforme"),
    )
    .control(
        "Temperatura del contenedor de transporte",
        "°C",
        Range("2", "25"),
    )
}

/// Adipose-derived MSC: lipoaspirate, collagenase, two passages, cryopreserved.
fn msc_adipose() -> Vec<Step> {
    let [formulation, freezing] = cryopreservation();
    vec![
        reception("del lipoaspirado", "24", false)
            .control("Volumen de lipoaspirado", "mL", AtLeast("50")),
        step(
            "digestion",
            "Lavado y digestión enzimática con colagenasa",
            RoomGrade::B,
            "Lavar el lipoaspirado con PBS hasta eliminar los restos hemáticos y digerir con colagenasa NB 6 a 37 °C en agitación.",
        )
        .with(&[CABINET, INCUBATOR])
        .uses("TAMPON-PBS", "200")
        .uses("ENZ-COLAGENASA", "75")
        .control("Tiempo de digestión", "min", Range("30", "60"))
        .control("Temperatura de digestión", "°C", Range("36", "38")),
        step(
            "siembra",
            "Aislamiento de la fracción estromal vascular y siembra (P0)",
            RoomGrade::B,
            "Centrifugar el digerido, lisar los hematíes, filtrar por 100 µm, contar y sembrar en frascos T175.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, COUNTER])
        .uses("MED-ALFA-MEM", "90")
        .uses("SUP-LPH", "10")
        .uses("CON-FRASCO-T175", "4")
        .control("Células nucleadas viables", CELLS, AtLeast("10"))
        .critical("Viabilidad", "%", AtLeast("70")),
        passage("pase-1", 1, 2),
        passage("pase-2", 2, 4),
        step(
            "cosecha",
            "Cosecha, lavado y recuento final",
            RoomGrade::B,
            "Despegar todas las capas, reunir, lavar dos veces con PBS y contar en el contador automático.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, COUNTER])
        .uses("ENZ-TRYPLE", "100")
        .uses("TAMPON-PBS", "500")
        .critical("Células viables totales", CELLS, AtLeast("100"))
        .critical("Viabilidad", "%", AtLeast("80"))
        .control("Morfología", "", Word("fibroblastoide")),
        formulation,
        freezing,
    ]
}

/// Bone-marrow MSC, autologous and fresh: a dose per kilogram, infused within 48 hours.
fn msc_marrow() -> Vec<Step> {
    vec![
        reception("del aspirado de médula ósea", "24", false)
            .control("Volumen de aspirado", "mL", AtLeast("40")),
        marrow_isolation("100", "70"),
        step(
            "siembra",
            "Siembra de las células mononucleares (P0)",
            RoomGrade::B,
            "Sembrar las células mononucleares en frascos T175 y retirar las no adherentes a las 72 h.",
        )
        .with(&[CABINET, INCUBATOR])
        .uses("MED-ALFA-MEM", "180")
        .uses("SUP-LPH", "20")
        .uses("CON-FRASCO-T175", "4")
        .control("Células sembradas", CELLS, AtLeast("50")),
        passage("pase-1", 1, 2),
        step(
            "cosecha",
            "Cosecha, lavado y recuento final",
            RoomGrade::B,
            "Despegar, reunir, lavar dos veces con PBS y contar.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, COUNTER])
        .uses("ENZ-TRYPLE", "60")
        .uses("TAMPON-PBS", "300")
        .critical("Células viables totales", CELLS, AtLeast("70"))
        .critical("Viabilidad", "%", AtLeast("70")),
        step(
            "formulacion",
            "Formulación en suero fisiológico con albúmina al 1 %",
            RoomGrade::B,
            "Resuspender la dosis calculada por el peso del paciente en suero fisiológico con albúmina y cargar en jeringa.",
        )
        .verified()
        .with(&[CABINET, COUNTER])
        .uses("SOL-SALINA", "50")
        .uses("ALB-HUMANA-20", "2.5")
        .critical("Dosis", "x10^6 células/kg", Range("1", "2"))
        .control("Volumen final", "mL", Range("45", "55")),
        conditioning("Etiquetar la jeringa con el código del paciente y el número de lote, y acondicionar en contenedor isotermo a 2–25 °C; infundir en las 48 h siguientes."),
    ]
}

fn marrow_isolation(cells: &'static str, viability: &'static str) -> Step {
    step(
        "aislamiento",
        "Aislamiento de células mononucleares por gradiente de densidad",
        RoomGrade::B,
        "Diluir la médula 1:1 con PBS, depositar sobre Ficoll-Paque, centrifugar 30 min a 400 g sin freno y recoger la interfase.",
    )
    .with(&[CABINET, CENTRIFUGE, COUNTER])
    .uses("REA-FICOLL", "60")
    .uses("TAMPON-PBS", "150")
    .critical("Células mononucleares", CELLS, AtLeast(cells))
    .critical("Viabilidad", "%", AtLeast(viability))
    .verified()
}

/// Bone-marrow mononuclear cells: the same day, no culture.
fn mononuclear() -> Vec<Step> {
    vec![
        reception("del aspirado de médula ósea", "12", false)
            .control("Volumen de aspirado", "mL", AtLeast("40")),
        marrow_isolation("50", "85"),
        step(
            "lavado",
            "Lavados y resuspensión",
            RoomGrade::B,
            "Lavar dos o tres veces con suero fisiológico para retirar el Ficoll y las plaquetas.",
        )
        .with(&[CABINET, CENTRIFUGE])
        .uses("SOL-SALINA", "100")
        .control("Número de lavados", "", Range("2", "3")),
        step(
            "formulacion",
            "Formulación en suero fisiológico con albúmina",
            RoomGrade::B,
            "Resuspender en 10 mL de suero fisiológico con albúmina y cargar en jeringa para la infusión intraarterial.",
        )
        .verified()
        .with(&[CABINET])
        .uses("SOL-SALINA", "10")
        .uses("ALB-HUMANA-20", "0.5")
        .control("Volumen final", "mL", Range("8", "12")),
        conditioning("Etiquetar la jeringa con el código del paciente y el número de lote y acondicionar a temperatura ambiente; la infusión se hace en el día."),
    ]
}

/// Autologous CAR-T: apheresis, activation, lentiviral transduction, expansion, cryopreserved.
fn car_t(vector: &str) -> Vec<Step> {
    let [formulation, freezing] = cryopreservation();
    vec![
        reception("del producto de aféresis", "48", true)
            .control("Volumen recibido", "mL", AtLeast("100")),
        step(
            "activacion",
            "Siembra y activación de linfocitos T (CD3/CD28)",
            RoomGrade::B,
            "Sembrar los linfocitos en medio TexMACS con IL-7 e IL-15 y añadir el reactivo TransAct.",
        )
        .verified()
        .with(&[CABINET, COUNTER, INCUBATOR])
        .uses("MED-TEXMACS", "100")
        .uses("ACT-TRANSACT", "2")
        .uses("CIT-IL7-IL15", "10")
        .control("Linfocitos T viables sembrados", CELLS, AtLeast("100"))
        .critical("Viabilidad", "%", AtLeast("70")),
        step(
            "transduccion",
            "Transducción con el vector lentiviral (día 1)",
            RoomGrade::B,
            "Descongelar el vector en la cabina y añadirlo al cultivo según la multiplicidad de infección (MOI) calculada.",
        )
        .verified()
        .with(&[CABINET, INCUBATOR])
        .uses(vector, "2")
        .critical("Multiplicidad de infección (MOI)", "", Range("2", "10")),
        step(
            "expansion",
            "Expansión en bolsa de cultivo (días 2 a 8)",
            RoomGrade::B,
            "Alimentar con medio y citocinas cada 48 h manteniendo entre 0,5 y 2 × 10⁶ células/mL.",
        )
        .with(&[INCUBATOR, COUNTER])
        .uses("MED-TEXMACS", "900")
        .uses("CIT-IL7-IL15", "20")
        .critical("Temperatura de incubación", "°C", Range("36.5", "37.5"))
        .control("Células viables totales", CELLS, AtLeast("500")),
        step(
            "cosecha",
            "Cosecha, lavado y recuento",
            RoomGrade::B,
            "Reunir el cultivo, lavar dos veces con suero fisiológico y contar.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, COUNTER])
        .uses("SOL-SALINA", "500")
        .critical("Células viables totales", CELLS, AtLeast("500"))
        .critical("Viabilidad", "%", AtLeast("70")),
        formulation,
        freezing,
    ]
}

/// Bioengineered tissue on fibrin-agarose (skin, cornea): two cell types, a stroma made with
/// one of them, the epithelium seeded on it, nanostructured by plastic compression.
fn fibrin_agarose(tissue: Tissue) -> Vec<Step> {
    let (what, stroma_cells, epithelium, stroma, scale) = match tissue {
        Tissue::Skin => (
            "de la biopsia de piel",
            "Fibroblastos",
            "Queratinocitos",
            "sustituto dérmico",
            2,
        ),
        Tissue::Cornea => (
            "del tejido corneoescleral donado",
            "Queratocitos",
            "Células epiteliales limbares",
            "estroma corneal",
            1,
        ),
    };
    let q = |base: u32| (base * scale).to_string();
    let mut steps = vec![
        reception(what, "72", true),
        step(
            "aislamiento",
            "Digestión enzimática y aislamiento de las células",
            RoomGrade::B,
            "Separar el estroma del epitelio, digerir con colagenasa (estroma) y TrypLE (epitelio), centrifugar y contar.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, INCUBATOR])
        .uses("ENZ-COLAGENASA", "20")
        .uses("ENZ-TRYPLE", "10")
        .uses("TAMPON-PBS", "50")
        .control("Tiempo de digestión", "h", Range("4", "8"))
        .critical("Viabilidad", "%", AtLeast("70")),
        step(
            "expansion",
            "Expansión de las dos poblaciones celulares",
            RoomGrade::B,
            "Cultivar cada población en su frasco hasta el 80 % de confluencia, cambiando el medio cada 3 días.",
        )
        .verified()
        .with(&[CABINET, INCUBATOR, COUNTER])
        .uses("MED-DMEM-F12", &q(250))
        .uses("SUP-LPH", &q(25))
        .uses("CON-FRASCO-T175", &q(4))
        .control(stroma_cells, CELLS, AtLeast("1"))
        .control(epithelium, CELLS, AtLeast("1"))
        .critical("Viabilidad", "%", AtLeast("80")),
        step(
            "matriz",
            &format!("Elaboración del {stroma} de fibrina-agarosa"),
            RoomGrade::B,
            "Mezclar el plasma con las células estromales, el ácido tranexámico, el cloruro cálcico y la agarosa fundida al 0,1 % final; gelificar a 37 °C.",
        )
        .verified()
        .with(&[CABINET, INCUBATOR])
        .uses("ESC-PLASMA-FIB", &q(20))
        .uses("ESC-AGAROSA", &q(10))
        .uses("REA-TRANEXAMICO", "0.8")
        .uses("REA-CACL2", &q(2))
        .uses("MED-DMEM-F12", &q(3))
        .critical("Concentración final de agarosa", "%", Range("0.09", "0.11"))
        .control("Tiempo de gelificación", "h", AtLeast("2")),
        step(
            "epitelio",
            "Siembra del epitelio sobre la matriz",
            RoomGrade::B,
            "Sembrar las células epiteliales sobre la superficie de la matriz y cultivar en inmersión.",
        )
        .with(&[CABINET, INCUBATOR])
        .uses("MED-DMEM-F12", &q(50))
        .uses("SUP-LPH", &q(5))
        .control(&format!("{epithelium} sembradas"), CELLS, AtLeast("0.5")),
    ];
    let nanostructuring = step(
        "nanoestructuracion",
        "Nanoestructuración por compresión plástica",
        RoomGrade::B,
        "Comprimir el constructo entre mallas de nailon y papel de filtro estériles con el peso validado durante 2 min.",
    )
    .verified()
    .with(&[CABINET]);
    steps.push(match tissue {
        Tissue::Skin => nanostructuring
            .critical("Superficie del constructo", "cm2", AtLeast("50"))
            .control("Espesor tras la compresión", "mm", Range("0.5", "1.5")),
        Tissue::Cornea => nanostructuring
            .critical("Transparencia", "", Word("conforme"))
            .control("Diámetro del constructo", "mm", Range("10", "12")),
    });
    steps.push(
        conditioning("Acondicionar el constructo en su contenedor estéril con medio de transporte, etiquetar y enviar al quirófano.")
            .critical("Aspecto", "", Word("conforme")),
    );
    steps
}

enum Tissue {
    Skin,
    Cornea,
}

/// Limbal stem cells from a donor, on amniotic membrane, fresh.
fn limbal() -> Vec<Step> {
    vec![
        reception("de la biopsia limbar del donante", "24", true),
        step(
            "aislamiento",
            "Disgregación enzimática de la biopsia limbar",
            RoomGrade::B,
            "Disgregar la biopsia con TrypLE a 37 °C, neutralizar y lavar con PBS.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE])
        .uses("ENZ-TRYPLE", "5")
        .uses("TAMPON-PBS", "20")
        .critical("Viabilidad", "%", AtLeast("70")),
        step(
            "expansion",
            "Expansión de células troncales limbares",
            RoomGrade::B,
            "Cultivar hasta el 80 % de confluencia cambiando el medio cada 2 o 3 días.",
        )
        .verified()
        .with(&[CABINET, INCUBATOR, COUNTER])
        .uses("MED-DMEM-F12", "200")
        .uses("SUP-LPH", "20")
        .uses("CON-FRASCO-T175", "4")
        .critical("Células viables", CELLS, AtLeast("0.5"))
        .critical("Viabilidad", "%", AtLeast("85")),
        step(
            "siembra-membrana",
            "Siembra sobre membrana amniótica",
            RoomGrade::B,
            "Descongelar la membrana, extenderla sobre el soporte con la cara epitelial arriba y sembrar las células.",
        )
        .with(&[CABINET, INCUBATOR])
        .uses("ESC-MEMB-AMNIO", "1")
        .uses("MED-DMEM-F12", "20")
        .control("Células sembradas", CELLS, AtLeast("0.5")),
        conditioning("Acondicionar la membrana en su contenedor estéril con medio de transporte, etiquetar y enviar al quirófano.")
            .critical("Aspecto", "", Word("conforme")),
    ]
}

/// Autologous chondrocytes for implantation, fresh.
fn chondrocytes() -> Vec<Step> {
    vec![
        reception("de la biopsia de cartílago", "48", true)
            .control("Peso de la biopsia", "mg", AtLeast("100")),
        step(
            "digestion",
            "Digestión enzimática del cartílago con colagenasa",
            RoomGrade::B,
            "Trocear la biopsia y digerir con colagenasa a 37 °C en agitación; filtrar y lavar con PBS.",
        )
        .with(&[CABINET, INCUBATOR, CENTRIFUGE])
        .uses("ENZ-COLAGENASA", "30")
        .uses("TAMPON-PBS", "50")
        .control("Tiempo de digestión", "h", Range("12", "18"))
        .control("Condrocitos aislados", CELLS, AtLeast("0.2")),
        step(
            "siembra",
            "Siembra de los condrocitos (P0)",
            RoomGrade::B,
            "Sembrar en frascos T175 con DMEM/F-12 y un 10 % de lisado plaquetario.",
        )
        .verified()
        .with(&[CABINET, COUNTER, INCUBATOR])
        .uses("MED-DMEM-F12", "90")
        .uses("SUP-LPH", "10")
        .uses("CON-FRASCO-T175", "2")
        .critical("Viabilidad", "%", AtLeast("80")),
        step(
            "pase-1",
            "Expansión: pase 1 con TrypLE",
            RoomGrade::B,
            "Despegar con TrypLE, contar y resembrar a 5.000 células/cm².",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, COUNTER, INCUBATOR])
        .uses("ENZ-TRYPLE", "10")
        .uses("MED-DMEM-F12", "270")
        .uses("SUP-LPH", "30")
        .uses("CON-FRASCO-T175", "6")
        .control("Confluencia al pase", "%", Range("70", "90"))
        .critical("Viabilidad", "%", AtLeast("80")),
        step(
            "cosecha",
            "Cosecha, lavado y recuento final",
            RoomGrade::B,
            "Despegar, reunir, lavar con PBS y contar.",
        )
        .verified()
        .with(&[CABINET, CENTRIFUGE, COUNTER])
        .uses("ENZ-TRYPLE", "20")
        .uses("TAMPON-PBS", "100")
        .critical("Condrocitos viables totales", CELLS, AtLeast("10"))
        .critical("Viabilidad", "%", AtLeast("80")),
        step(
            "formulacion",
            "Resuspensión en medio de implantación",
            RoomGrade::B,
            "Resuspender los condrocitos en medio sin suplementos y cargar en jeringa.",
        )
        .verified()
        .with(&[CABINET])
        .uses("MED-DMEM-F12", "2")
        .critical("Concentración celular", "x10^6 células/mL", Range("10", "40")),
        conditioning("Acondicionar la jeringa en contenedor isotermo a 2–8 °C, etiquetar y enviar al quirófano; implantar en 48 h.")
            .critical("Aspecto", "", Word("conforme")),
    ]
}

/// The steps of `product`'s master record: by the product the network knows, or by its class.
pub fn master_steps(product: &Product) -> Vec<MbrStep> {
    let steps = match product.code.as_str() {
        "MSC-AD-ALO" | "MSC-AD-AUT" => msc_adipose(),
        "MSC-MO-AUT" => msc_marrow(),
        "CMN-MO-AUT" => mononuclear(),
        "CART-CD19" => car_t("VEC-LV-CD19"),
        "CART-BCMA" => car_t("VEC-LV-BCMA"),
        "UGRSKIN" => fibrin_agarose(Tissue::Skin),
        "CORNEA-ART" => fibrin_agarose(Tissue::Cornea),
        "LSC-ALO" => limbal(),
        "CONDRO-AUT" => chondrocytes(),
        _ => match product.atmp_class {
            AtmpClass::GeneTherapy => car_t("VEC-LV-CD19"),
            AtmpClass::TissueEngineered => fibrin_agarose(Tissue::Skin),
            _ => msc_adipose(),
        },
    };
    // Every step with a critical control is checked by a second person.
    steps
        .into_iter()
        .map(|Step(mut s)| {
            s.verification_required |= s.parameters.iter().any(|p| p.critical);
            s
        })
        .collect()
}

/// A value of `p` within its limits, as an operator would read it: the middle of a range (a
/// whole number between whole limits: two washes, not two and a half), a percentage halfway
/// to 100, a count a quarter above its minimum, a time or a delay well under its maximum.
pub fn good_value(p: &MbrParameter) -> String {
    let whole = |x: Decimal| x.fract().is_zero();
    let v = match (p.min, p.max, &p.expected) {
        (Some(min), Some(max), _) if whole(min) && whole(max) => {
            ((min + max) / Decimal::TWO).round()
        }
        (Some(min), Some(max), _) => (min + max) / Decimal::TWO,
        (Some(min), None, _) if p.unit == "%" => (min + Decimal::ONE_HUNDRED) / Decimal::TWO,
        (Some(min), None, _) => min * d("1.25"),
        (None, Some(max), _) => max * d("0.6"),
        (None, None, Some(word)) => return word.clone(),
        (None, None, None) => Decimal::ONE,
    };
    v.round_dp(2).normalize().to_string()
}

/// A value of `p` below its minimum (or above its maximum): what a failed control reads.
pub fn out_of_limits(p: &MbrParameter) -> Option<String> {
    let v = match (p.min, p.max) {
        (Some(min), _) => min * d("0.92"),
        (None, Some(max)) => max * d("1.25"),
        (None, None) => return None,
    };
    Some(v.round_dp(3).normalize().to_string())
}

#[cfg(test)]
#[path = "masters_tests.rs"]
mod tests;
