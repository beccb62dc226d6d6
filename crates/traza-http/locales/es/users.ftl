# users: la administración de usuarios (/usuarios), solo para administración.

users-title = Usuarios
users-accounts = Cuentas
users-full-name = Nombre completo
users-role = Función
users-you = (usted)
users-active = activa
users-inactive = desactivada
users-locked-until = bloqueada hasta
users-deactivate = Desactivar
users-reactivate = Reactivar
users-unlock = Desbloquear
users-reset-password = Restablecer la contraseña
users-reset-hint = La persona entrará con esta contraseña y luego podrá cambiarla en «Mi contraseña». Al restablecerla se cierran todas sus sesiones abiertas.
users-set-password = Guardar la nueva contraseña
users-new-user = Nuevo usuario
users-username-hint = De 2 a 32 caracteres: letras minúsculas sin tilde (a-z), cifras, «.», «_» o «-»; empieza por una letra o una cifra. No se puede cambiar después.
users-labs-hint = Solo para personal de laboratorio y garantía de calidad (al menos uno): los laboratorios cuyos lotes verá. Las demás funciones ven toda la red y no llevan laboratorio.
users-initial-password = Contraseña inicial
users-create = Crear el usuario
users-done-created = Usuario creado:
users-done-deactivated = Cuenta desactivada; sus sesiones se han cerrado:
users-done-reactivated = Cuenta reactivada:
users-done-password = Contraseña restablecida; sus sesiones se han cerrado:
users-done-unlocked = Cuenta desbloqueada:
users-username-taken = ya existe un usuario con ese nombre
