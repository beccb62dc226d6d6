# import: el resultado de una importación y lo que la página de un lote importado dice de su origen.

import-created-batches = Lotes creados
import-created-shown = Se muestran los primeros, en el orden del fichero:
imported-heading = Importado
imported-intro = Este lote no se fabricó en Traza: llegó de los registros históricos del laboratorio al importar un fichero CSV. Estos son su origen y los valores que trajo su fila.
imported-import = Importación
imported-record-unavailable = no se pudo leer el registro de la importación
imported-source-api = desde la web o la API
imported-source-cli = desde la línea de órdenes
imported-sha256 = Huella SHA-256 del fichero
imported-encoding = Codificación y separador
imported-counts = Filas / nuevas / sin cambios / avisos del fichero
imported-values = Valores importados
imported-now = ahora
imported-changed-since = Algunos valores han cambiado en Traza después de la importación (fin de fabricación, liberación, corrección): se indica el valor actual al lado; cada cambio consta en el registro de auditoría del lote.
imported-not-kept = Traza guarda los valores de la fila ya interpretados (fechas, decimales, estado), no el texto tal como se escribió, ni el fichero, ni los avisos de cada fila: solo su número y la huella del fichero.
imported-qc-from-history = Lote importado: su control de calidad procede del registro histórico del laboratorio y no se registró en Traza. Valores de su fila:
imported-qc-historical = registro histórico
imported-qc-open-hint = Para certificar este lote en Traza hay que registrar aquí el resultado de cada ensayo obligatorio: los valores históricos no son resultados de control de Traza.

## What each import issue code means (IssueCode)
import-code-empty-file = El fichero está vacío: no tiene cabecera
import-code-unknown-column = Columna desconocida en la cabecera
import-code-duplicate-column = Columna repetida en la cabecera
import-code-missing-column = Falta una columna obligatoria en la cabecera
import-code-malformed-csv = El fichero no se puede leer como CSV (unas comillas sin cerrar)
import-code-read-failed = No se pudo leer el fichero; lo que sigue no se leyó
import-code-invalid-encoding = Caracteres no válidos en la codificación del fichero
import-code-wrong-field-count = La fila tiene más o menos campos que la cabecera
import-code-missing-value = Falta un valor obligatorio
import-code-invalid-value = Valor no válido, fuera de rango o en contradicción con otro de la fila
import-code-chain-of-identity = Cadena de identidad rota: en un lote autólogo el paciente debe ser el donante
import-code-unknown-product = Producto desconocido en la red
import-code-unknown-lab = Laboratorio desconocido en la red
import-code-origin-mismatch = El origen no es el del producto
import-code-route-not-offered = El producto no se ofrece por esa vía de acceso
import-code-duplicate-in-file = Número de lote repetido en el fichero
import-code-conflicts-with-stored = Ya hay un lote con ese número y otros datos
import-code-out-of-scope = No puede importar historia de ese laboratorio
import-code-foreign-batch-number = El número tiene la forma de los de otro laboratorio
import-code-duplicate = Ese número de lote ya existe
import-code-no-assignment = Aviso: ninguna asignación del producto al laboratorio cubría el inicio de fabricación
import-code-trial-mismatch = Aviso: el ensayo clínico no es el de las asignaciones vigentes en esa fecha
