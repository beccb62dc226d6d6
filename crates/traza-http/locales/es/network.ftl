# network: la red (/red), las asignaciones, la página de cada producto y el registro público.
# «%n» es un número y «%d», «%u» son fechas: la página los pone al mostrar el texto.

# Clases de terapia avanzada (Reglamento (CE) 1394/2007, art. 2).
net-class-somatic-cell-therapy = Terapia celular somática
net-class-tissue-engineered = Ingeniería tisular
net-class-gene-therapy = Terapia génica
net-class-combined = Terapia avanzada combinada
net-atmp-class = Clase de terapia avanzada
net-access-routes = Vías de acceso
net-open-in-the-eu-register = Ver el ensayo en el registro público de ensayos clínicos de la UE

# Laboratorios.
net-lab-active = Activo
net-lab-suspended = Suspendido
net-lab-training-only = Solo formación
net-gmp-certificate = Certificado NCF
net-cert-none = sin fecha de caducidad registrada
net-cert-expired-days-ago = caducado hace %n días (%d)
net-cert-expired-yesterday = caducó ayer (%d)
net-cert-expires-today = caduca hoy (%d)
net-cert-expires-tomorrow = caduca mañana (%d)
net-cert-expires-in-days = caduca en %n días (%d)
net-cert-valid-until = vigente hasta el %d

# Asignaciones.
net-assignment = Asignación
net-number-short = nº
net-in-force = Vigente
net-upcoming = Próxima
net-ended = Terminada
net-no-end = sin fecha de fin
net-current-assignments = Asignaciones vigentes y próximas
net-ended-assignments = Asignaciones terminadas
net-ended-hint = Asignaciones cuyo último día ya pasó. No se borran nunca: los lotes fabricados con ellas siguen remitiendo a ellas.
net-authorisation-reference-hint = En un ensayo clínico, su número EudraCT (AAAA-NNNNNN-NN) o EU CT (AAAA-5NNNNN-NN-NN).
net-refusal-certificate = el certificado NCF del laboratorio caduca el %u, antes del primer día de la asignación (%d)
net-back-to-the-network = Volver a la red
net-assigned-by = Asignada por
net-end-the-assignment = Terminar la asignación
net-end-hint = El último día en que la asignación autoriza a fabricar; puede adelantarse, no retrasarse. La asignación no se borra: pasa a la lista de terminadas.
net-end-refused = La asignación no puede terminar en esa fecha
net-end-before-start = La asignación empieza el %d: no puede terminar antes de ese día. Elija el %d o un día posterior.
net-end-already-ends = La asignación ya termina el %d: su fin solo puede adelantarse. Elija un día anterior.
net-end-changed = La asignación ha cambiado mientras tanto: revise sus fechas y repita.
net-assignment-history = Historia de la asignación
action-assignment-create = Asignación creada
action-assignment-end = Asignación terminada
action-product-update = Producto modificado

# Productos.
net-product-page-hint = Cada producto tiene su página con la especificación completa, sus asignaciones y las palabras con que lo encuentra el registro público.
net-product-active = Activo
net-product-withdrawn = Retirado
net-shelf-life = Periodo de validez
net-one-day = 1 día
net-n-days = %n días
net-test-kind = Tipo
net-kind-numeric = Numérico
net-kind-categorical = Cualitativo
net-acceptance = Criterio de aceptación
net-recorded-only = se registra, sin límites
net-possible-values = Valores posibles
net-a-number = un número
net-any-word = cualquier palabra
net-required-for-release = Obligatorio para liberar
net-no = no
net-indications = Indicaciones (enfermedades que trata)
net-keywords = Palabras clave
net-registry-words = Palabras del registro público
net-registry-words-hint = Una palabra o frase por línea, como las escriben los pacientes (p. ej. «linfoma», «células madre»). La búsqueda no distingue mayúsculas, tildes ni guiones.
net-save-the-registry-words = Guardar las palabras
net-registry-words-saved = Palabras del registro guardadas. El registro público las encuentra en unos segundos.
