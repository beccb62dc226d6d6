# lots: la página de materiales, sus lotes y la traza de retirada de un lote (SPEC §8).

lots-title = Materiales y lotes de material
lots-lots = Lotes de material
lots-lot = Lote de material
lots-lot-title = Lote de material
lots-material = Material
lots-supplier = Proveedor
lots-supplier-lot = Lote del proveedor
lots-received = Recibido
lots-received-on = Fecha de recepción
lots-by = por
lots-quantity = Cantidad recibida
lots-quantity-received = Cantidad recibida
lots-quantity-hint = En la unidad del material; se admite la coma decimal (2,5).
lots-remaining = Cantidad restante
lots-of = de
lots-expiry-hint = El último día en que el lote puede usarse.
lots-none = No hay lotes de material que mostrar.
lots-receive-title = Recepción de un lote
lots-receive = Registrar la recepción (queda en cuarentena)
lots-back = Volver a materiales y lotes

# La caducidad, dicha con palabras.
lots-expired-on = caducado: su último día de uso fue el { $date }
lots-expires-today = caduca hoy
lots-expires-tomorrow = caduca mañana
lots-expires-in-days = caduca en { $days } días

# El catálogo.
lots-catalogue = Catálogo de materiales de la red
lots-kind = Tipo
lots-kind-starting-material = material de partida
lots-kind-reagent = reactivo
lots-kind-medium = medio de cultivo
lots-kind-vector = vector
lots-kind-scaffold = soporte (matriz)
lots-kind-consumable = fungible
lots-no-materials = El catálogo aún no tiene materiales.
lots-edit = Editar
lots-save = Guardar los cambios
lots-unit-hint = La unidad no puede cambiar una vez recibido algún lote del material.
lots-new-material = Nuevo material
lots-code-hint = Mayúsculas, cifras y guiones (MED-ALFA).
lots-unit-example = La unidad en que se cuentan sus lotes: mL, vial, µg…
lots-add-material = Añadir al catálogo
lots-code-taken = ya hay un material con ese código
lots-done-material-created = Material añadido al catálogo:
lots-done-material-changed = Material modificado:

# Recepción y disposición de un lote.
lots-done-received = Lote de material recibido: queda en cuarentena hasta que Calidad lo libere.
lots-done-released = Lote de material liberado con su firma.
lots-done-rejected = Lote de material rechazado con su firma.
lots-no-signature = Sin firmas: el lote no ha sido liberado ni rechazado.
lots-disposition = Disposición por Calidad
lots-release = Liberar el lote
lots-sign-release = Firmar y liberar el lote
lots-reject = Rechazar el lote
lots-sign-reject = Firmar y rechazar el lote
lots-not-in-quarantine = El lote ya no está en cuarentena: está { $status }.
lots-expired-reject-only = El lote caducó (su último día de uso fue el { $date }): puede rechazarse, no liberarse.

# La traza de retirada.
lots-trace = Trazabilidad para una retirada
lots-trace-hint = Cada lote fabricado cuyo registro de pasos usó este lote de material, y cada paciente que recibió uno de ellos.
lots-trace-batches = Lotes fabricados con este material
lots-trace-no-batches = Ningún lote fabricado ha usado este lote de material.
lots-quantity-used = Cantidad usada
lots-trace-patients = Pacientes que recibieron esos lotes
lots-trace-no-patients = Ningún paciente ha recibido un lote fabricado con este material.
