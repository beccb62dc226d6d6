# mbr: el editor de registros maestros de fabricación (/registros-maestros), de garantía de calidad.

mbr-title-list = Registros maestros de fabricación
mbr-master-record = Registro maestro
mbr-list-hint = Cada versión dice cómo se fabrica un producto en un laboratorio, paso a paso. Garantía de calidad del laboratorio escribe un borrador y otra persona de garantía de calidad lo aprueba con su firma; entra en vigor en la fecha que se indica.
mbr-new = Nuevo registro maestro
mbr-none = No hay registros maestros que mostrar.
mbr-version = versión
mbr-steps = Pasos
mbr-author = Autor
mbr-approved-by = Aprobado por
mbr-not-approved = sin aprobar
mbr-effective-from = En vigor desde
mbr-approval-hash = Huella de la aprobación (SHA-256)

# Estados de una versión.
mbr-status-draft = borrador
mbr-status-approved = aprobado
mbr-status-effective = vigente
mbr-status-superseded = sustituido

# Nuevo borrador.
mbr-back-to-list = Volver a los registros maestros
mbr-lab-and-product = Laboratorio y producto
mbr-lab-and-product-hint = Los productos asignados a sus laboratorios. El borrador será la versión siguiente del registro maestro de ese producto en ese laboratorio.
mbr-start-from = Partir de una versión
mbr-start-empty = No: empezar con un primer paso
mbr-start-from-hint = Se copian sus pasos al nuevo borrador, que luego se edita; es la forma habitual de escribir la versión siguiente.
mbr-first-step = Primer paso
mbr-first-step-hint = Solo si no parte de una versión: un registro maestro tiene al menos un paso. Los demás se añaden después.
mbr-create-draft = Crear el borrador

# Una versión.
mbr-back-to-version = Volver a la versión
mbr-compare-with-previous = Comparar con la versión anterior
mbr-draft-hint-reader = Borrador: garantía de calidad del laboratorio lo está escribiendo; no guía ningún lote hasta que se apruebe y entre en vigor.
mbr-no-steps = Sin pasos.
mbr-step-word = paso
mbr-room-grade = Grado de la sala
mbr-grade = grado
mbr-no-grade = sin grado exigido
mbr-verification = Verificación por una segunda persona
mbr-verification-required = Necesita la verificación de una segunda persona
mbr-equipment = Equipos
mbr-equipment-class = Clase de equipo
mbr-equipment-hint = Una clase por casilla, como las del inventario de equipos del laboratorio (incubator, biosafety_cabinet). Una casilla vacía no cuenta.
mbr-parameters = Parámetros
mbr-parameter = Parámetro
mbr-parameter-name = Nombre
mbr-min = Mínimo
mbr-max = Máximo
mbr-expected = Valor esperado
mbr-expected-word = Valor esperado (una palabra, si no es un número)
mbr-critical = Crítico
mbr-materials = Materiales
mbr-material = Material
mbr-material-code = Código del material
mbr-quantity = Cantidad
mbr-yes = sí
mbr-no = no
mbr-edit-step = Editar el paso
mbr-move-up = Subir
mbr-move-down = Bajar
mbr-remove-step = Quitar
mbr-add-step = Añadir un paso
mbr-approve = Aprobar esta versión
mbr-effective-from-hint = Desde este día (hora de Madrid) guía los lotes nuevos; hoy o más adelante. La versión vigente hasta entonces pasa a sustituida.
mbr-approve-sign = Firmar y aprobar
mbr-approval-by-another = Otra persona de garantía de calidad del laboratorio, no quien escribió el borrador, debe aprobarlo.
mbr-new-version-from-this = Nueva versión a partir de esta
mbr-new-version-from-this-hint = Crea un borrador con una copia de estos pasos, como versión siguiente del mismo producto en el mismo laboratorio.

# El formulario de un paso.
mbr-code = Código
mbr-title = Título
mbr-instructions = Instrucciones
mbr-rows-hint = Para añadir, rellene una fila vacía; para quitar, vacíe la fila.
mbr-save-step = Guardar el paso

# Lo hecho.
mbr-done-created = Borrador creado.
mbr-done-step-saved = Paso guardado.
mbr-done-step-removed = Paso quitado.
mbr-done-step-moved = Paso movido.
mbr-done-approved = Versión aprobada con su firma.

# Rechazos.
mbr-refused-content = El registro maestro no se ha guardado: revise estos valores
mbr-refused-four-eyes = Quien escribió el borrador no puede aprobarlo: debe hacerlo otra persona de garantía de calidad del laboratorio.
mbr-refused-locked = Esta versión está aprobada y ya no cambia: para modificarla, cree una versión nueva a partir de ella.
mbr-refused-locked-title = Versión aprobada
mbr-changed-meanwhile = El registro maestro ha cambiado desde que abrió este formulario.
mbr-changed-meanwhile-hint = No se ha guardado nada. Revise la versión tal como está ahora; si vuelve a enviar el formulario, se guardará lo que tiene escrito.
mbr-problem-min-above-max = el mínimo no puede ser mayor que el máximo ({ $max })
mbr-problem-no-steps = el registro maestro necesita al menos un paso

# Comparación de versiones.
mbr-compare = Comparar
mbr-compare-title = Comparación de versiones
mbr-compare-old = Versión anterior
mbr-compare-new = Versión nueva
mbr-compare-choose = Elija dos versiones para comparar.
mbr-compare-other-record = Solo se comparan versiones del mismo producto en el mismo laboratorio.
mbr-compare-no-changes = Los pasos de las dos versiones son iguales.
mbr-compare-steps-added = Pasos añadidos
mbr-compare-steps-removed = Pasos quitados
mbr-compare-steps-changed = Pasos cambiados
mbr-compare-added = añadido
mbr-compare-removed = quitado
mbr-compare-order = Orden entre los pasos comunes
