# materials: materiales, lotes de material, equipos y salas (SPEC §8).

# Rechazos con código propio.
error-material-not-usable = Un lote de material no se puede usar en este paso
error-equipment-not-usable = Un equipo no se puede usar en este paso
error-room-not-suitable = La sala no es adecuada para este paso

# Firmas de disposición de un lote.
meaning-material-released = Libero este lote de material para su uso en fabricación
meaning-material-rejected = Rechazo este lote de material

# Estados de un lote.
lot-status-quarantine = en cuarentena
lot-status-released = liberado
lot-status-rejected = rechazado

# Por qué se rechaza un dato.
problem-unknown-material = material desconocido
problem-lot-not-of-lab = el lote no es de este laboratorio
problem-lot-not-released = el lote no está liberado: está { $status }
problem-lot-expired = el lote caducó el { $date }
problem-lot-other-material = el lote es de { $material }, que este paso no usa
problem-lot-not-enough = solo quedan { $available } del lote
problem-equipment-not-of-lab = el equipo no es de este laboratorio
problem-equipment-out-of-service = el equipo está fuera de servicio
problem-calibration-past-due = la calibración del equipo venció el { $date }
problem-room-not-of-lab = la sala no es de este laboratorio
problem-room-grade-too-low = la sala es de grado { $grade }; el paso necesita grado { $required } o más limpio
