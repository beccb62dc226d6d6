# equipment: la página de equipos y salas de un laboratorio (SPEC §8).

equipment-title = Equipos y salas
equipment-equipment = Equipos
equipment-rooms = Salas
equipment-id = Identificador
equipment-class = Clase
equipment-calibration-due = Calibración válida hasta
equipment-calibration-due-hint = El último día que cubre la calibración: después, el equipo no puede usarse.
equipment-none = No hay equipos que mostrar.
equipment-change = Cambiar estado o calibración
equipment-save = Guardar
equipment-new = Nuevo equipo
equipment-id-hint = Su etiqueta de inventario (BSC-02); única en el laboratorio.
equipment-class-hint = Lo que es, como lo piden los registros maestros (cabina de seguridad biológica → biosafety_cabinet).
equipment-add = Añadir el equipo
equipment-id-taken = el laboratorio ya tiene uno con ese identificador
equipment-done-created = Equipo añadido:
equipment-done-changed = Equipo modificado:
equipment-done-room = Sala añadida:

# Estado, con palabras.
equipment-status-in-service = en servicio
equipment-status-out-of-service = fuera de servicio

# La calibración, dicha con palabras.
equipment-calibration-past-due = calibración vencida desde el { $date }
equipment-calibration-due-today = la calibración vence hoy
equipment-calibration-due-tomorrow = la calibración vence mañana
equipment-calibration-due-in-days = la calibración vence en { $days } días

# Clases de equipo conocidas (otras se muestran tal como se escribieron).
equipment-class-word-biosafety-cabinet = cabina de seguridad biológica
equipment-class-word-incubator = incubador
equipment-class-word-co2-incubator = incubador de CO₂
equipment-class-word-centrifuge = centrífuga
equipment-class-word-cell-counter = contador celular
equipment-class-word-flow-cytometer = citómetro de flujo
equipment-class-word-freezer = congelador
equipment-class-word-refrigerator = frigorífico
equipment-class-word-microscope = microscopio
equipment-class-word-bioreactor = biorreactor
equipment-class-word-balance = balanza

# Salas.
equipment-room = Sala
equipment-grade = Grado
equipment-grade-of = grado { $grade }
equipment-grade-hint = Grados del Anexo 1 de las GMP de la UE: A es el más limpio; un paso que pide grado B puede hacerse en una sala de grado A o B.
equipment-no-rooms = No hay salas que mostrar.
equipment-new-room = Nueva sala
equipment-add-room = Añadir la sala
equipment-room-taken = el laboratorio ya tiene una sala con ese identificador
