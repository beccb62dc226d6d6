//! What the demo's laboratories make their products with: the network's catalogue of GMP
//! materials, as the coordination unit keeps it, with the supplier, pack size and shelf life
//! a laboratory receives each one in.

use traza_domain::materials::MaterialKind;

/// A material of the catalogue, and how a laboratory receives it.
pub struct Stock {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: MaterialKind,
    pub unit: &'static str,
    pub supplier: &'static str,
    /// What one receipt brings, in `unit`.
    pub pack: &'static str,
    /// The shelf life a new lot has left when it arrives.
    pub shelf_days: u64,
}

const fn stock(
    code: &'static str,
    name: &'static str,
    kind: MaterialKind,
    unit: &'static str,
    supplier: &'static str,
    pack: &'static str,
    shelf_days: u64,
) -> Stock {
    Stock {
        code,
        name,
        kind,
        unit,
        supplier,
        pack,
        shelf_days,
    }
}

use MaterialKind::{Consumable, Medium, Reagent, Scaffold, Vector};

/// The network's catalogue of materials.
#[rustfmt::skip]
pub const CATALOGUE: &[Stock] = &[
    stock("MED-ALFA-MEM", "Medio alfa-MEM sin nucleósidos, grado GMP", Medium, "mL", "Thermo Fisher Scientific (Gibco CTS)", "10000", 365),
    stock("MED-DMEM-F12", "Medio DMEM/F-12 con GlutaMAX, grado GMP", Medium, "mL", "Thermo Fisher Scientific (Gibco CTS)", "5000", 365),
    stock("MED-TEXMACS", "Medio TexMACS GMP para linfocitos T", Medium, "mL", "Miltenyi Biotec", "6000", 300),
    stock("SUP-LPH", "Lisado plaquetario humano (hPL) sin heparina, grado GMP", Medium, "mL", "Macopharma", "1500", 540),
    stock("ENZ-TRYPLE", "TrypLE Select CTS, enzima de disociación recombinante", Reagent, "mL", "Thermo Fisher Scientific (Gibco CTS)", "1500", 540),
    stock("ENZ-COLAGENASA", "Colagenasa NB 6 grado GMP", Reagent, "mg", "Nordmark Biochemicals", "500", 720),
    stock("TAMPON-PBS", "Tampón fosfato salino (PBS) sin calcio ni magnesio", Reagent, "mL", "Thermo Fisher Scientific (Gibco CTS)", "10000", 720),
    stock("REA-FICOLL", "Ficoll-Paque PREMIUM, gradiente de densidad 1,077 g/mL", Reagent, "mL", "Cytiva", "1000", 900),
    stock("CRIO-DMSO", "Dimetilsulfóxido (DMSO) crioprotector, grado GMP", Reagent, "mL", "Origen Biomedical (CryoSure)", "200", 900),
    stock("ALB-HUMANA-20", "Albúmina humana al 20 %", Reagent, "mL", "Grifols", "1000", 720),
    stock("SOL-SALINA", "Cloruro sódico 0,9 % para perfusión", Reagent, "mL", "Fresenius Kabi", "10000", 900),
    stock("ACT-TRANSACT", "Reactivo de activación CD3/CD28 (T Cell TransAct GMP)", Reagent, "mL", "Miltenyi Biotec", "40", 365),
    stock("CIT-IL7-IL15", "Interleucinas IL-7 e IL-15 recombinantes GMP", Reagent, "µg", "Miltenyi Biotec", "500", 540),
    stock("VEC-LV-CD19", "Vector lentiviral anti-CD19 (ARI-0001)", Vector, "mL", "Hospital Clínic de Barcelona, unidad de producción de vectores", "20", 365),
    stock("VEC-LV-BCMA", "Vector lentiviral anti-BCMA (ARI0002h)", Vector, "mL", "Hospital Clínic de Barcelona, unidad de producción de vectores", "20", 365),
    stock("ESC-PLASMA-FIB", "Plasma humano de banco, fuente de fibrina", Scaffold, "mL", "Centro Regional de Transfusión Sanguínea", "2000", 365),
    stock("ESC-AGAROSA", "Agarosa tipo VII-A", Scaffold, "mg", "Merck (Sigma-Aldrich)", "5000", 1095),
    stock("ESC-MEMB-AMNIO", "Membrana amniótica humana criopreservada (3 × 3 cm)", Scaffold, "unidad", "Banco de Tejidos de Andalucía", "10", 730),
    stock("REA-CACL2", "Cloruro cálcico al 1 %", Reagent, "mL", "B. Braun", "500", 900),
    stock("REA-TRANEXAMICO", "Ácido tranexámico 100 mg/mL", Reagent, "mL", "Meda Pharma (Amchafibrin)", "100", 900),
    stock("CON-FRASCO-T175", "Frasco de cultivo T175 con tapón filtrante, estéril", Consumable, "unidad", "Corning", "400", 1095),
    stock("CON-BOLSA-CRIO", "Bolsa de criopreservación de 50 mL (etilvinilacetato)", Consumable, "unidad", "Miltenyi Biotec (CryoMACS)", "60", 1095),
];

pub fn stock_of(code: &str) -> Option<&'static Stock> {
    CATALOGUE.iter().find(|s| s.code == code)
}
