# pdf: el registro de lote en PDF (GET /api/v1/batches/{number}/record.pdf y /lotes/{número}/registro.pdf),
# para la inspección y el archivo. Los demás textos del documento son los de las páginas.

pdf-title = Registro de lote
pdf-download = Registro de lote (PDF)
pdf-page = Página { $page } de { $pages }
pdf-generated = Documento generado el { $madrid } ({ $utc }) por { $who }, con el registro en su versión { $version }.
pdf-not-a-copy = Copia del registro electrónico de Traza en el momento de generarla; el registro original es el electrónico.

pdf-section-product = Producto
pdf-section-batch = Lote
pdf-section-provenance = Procedencia del registro
pdf-section-steps = Pasos y eventos de fabricación
pdf-section-qc = Control de calidad frente a la especificación
pdf-section-deviations = Desviaciones
pdf-section-holds = Retenciones
pdf-section-signatures = Firmas electrónicas
pdf-section-administrations = Administraciones
pdf-section-audit = Registro de auditoría del lote

pdf-code = Código
pdf-name = Nombre
pdf-atmp-class = Clase de terapia avanzada
pdf-specification-version = Versión de la especificación
pdf-batch-number = Número de lote
pdf-trial-id = Ensayo clínico
pdf-cell-count = Recuento celular
pdf-viability = Viabilidad
pdf-volume-ml = Volumen (ml)
pdf-release = Liberación
pdf-on-hold = en retención
pdf-lab-unknown = (datos del laboratorio no disponibles)
pdf-product-unknown = (datos del producto no disponibles)

pdf-unguided = Lote no guiado: sin registro maestro de fabricación
pdf-unguided-hint = Los pasos de este lote se registraron como eventos de fabricación, sin un registro maestro aprobado frente al que ejecutarlos.
pdf-made-in-traza = Lote creado en Traza por { $who } el { $when }.
pdf-imported = Lote importado del histórico: importación n.º { $id }, línea { $line } del fichero.
pdf-import-file = Fichero
pdf-import-sha256 = SHA-256 del fichero
pdf-import-by = Importado por
pdf-import-at = Importado el
pdf-import-history-note = Sus valores son los del registro histórico importado; los pasos, resultados y firmas que siguen son los registrados en Traza después.

pdf-step-heading = { $n }. { $step }
pdf-performed = Realizado
pdf-recorded = Registrado por { $who } el { $when }
pdf-note = Nota

pdf-col-number = N.º
pdf-col-test = Ensayo
pdf-col-specification = Especificación
pdf-col-result = Resultado
pdf-col-outcome = Valoración
pdf-col-state = Estado
pdf-col-remarks = Observaciones
pdf-col-when = Cuándo (Madrid)
pdf-col-who = Quién
pdf-col-what = Qué
pdf-col-reason = Motivo
pdf-col-patient = Paciente
pdf-col-date = Fecha
pdf-col-hospital = Hospital
pdf-col-recorded-by = Registrada por
pdf-qc-current = vigente
pdf-qc-superseded-by = SUSTITUIDO por el n.º { $id }
pdf-qc-no-result = sin resultado
pdf-qc-retest-of = repite el n.º { $id }
pdf-qc-deviation = desviación n.º { $id }
pdf-qc-by = por { $who }
pdf-qc-spec-version = juzgado con la especificación v{ $version }
pdf-qc-required = * obligatorio para la liberación
pdf-qc-no-spec = La especificación del producto no está disponible: se muestran los resultados sin sus límites.

pdf-deviation-heading = Desviación n.º { $id } · gravedad { $severity } · { $status }
pdf-deviation-open = abierta
pdf-deviation-closed = cerrada
pdf-opened = Abierta por { $who } el { $when }
pdf-closed = Cerrada por { $who } el { $when }
pdf-resolution = Resolución

pdf-hold-heading = Retención n.º { $id } · { $status }
pdf-hold-active = activa
pdf-hold-lifted = levantada
pdf-hold-placed = Puesta por { $who } el { $when }
pdf-hold-reaction = Por la búsqueda retrospectiva de la reacción adversa n.º { $id }
pdf-hold-lift = Levantada por { $who } el { $when }: { $reason }

pdf-meaning = Significado
pdf-signed-at = Firmado el
pdf-reason = Motivo
pdf-record-hash = Huella del registro firmado (SHA-256)

pdf-given-before-hold = administrada antes de la retención
pdf-reaction = reacción adversa n.º { $id } ({ $severity }, { $status })
pdf-reaction-open = abierta
pdf-reaction-closed = cerrada
pdf-section-guided = Ejecución frente al registro maestro
pdf-guided-by = Registro maestro de fabricación, versión { $version }, aprobado por { $approver }.
pdf-step-not-recorded = Paso sin registrar.
pdf-performed-by = Realizado por
pdf-room = Sala
pdf-equipment = Equipos
pdf-lot = Lote de material
pdf-corrects = Corrige la anotación #{ $id }: { $reason }
pdf-verified-by = Verificado por
pdf-not-verified = Sin verificar.
pdf-no-verification-needed = No requiere verificación.
pdf-section-exceptions = Excepciones del registro de lote
pdf-no-exceptions = Ninguna.
pdf-resolved-by = Resuelta por
pdf-exception-open = Abierta: sin resolver.
pdf-guided = Lote guiado por el registro maestro de fabricación, versión { $version }: su ejecución figura en la sección «Ejecución frente al registro maestro».
